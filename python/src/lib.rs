//! Python bindings for qovery-redeploy (see issue 4).
