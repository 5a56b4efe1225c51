//! C ABI for qovery-redeploy (see issue 3).
