"""Status bodies generated from the API's own schema parse, through the Python
package and through the C ABI (ctypes), whatever the schema allows.

The bodies come from hypothesis-jsonschema, fed the committed schema
(tests/data/status-schema.json, the OpenAPI document's ``components.schemas``), turned into
JSON Schema: ``$ref``s inlined, OpenAPI's ``nullable: true`` as ``type: [T, "null"]``. So
nullable fields are sometimes null, optional ones sometimes absent, extra properties appear
(``additionalProperties`` is not closed), integers are any Python int (negative, beyond
64 bits), and ``date-time`` / ``uuid`` strings follow their formats. A second, looser schema
also lets every enum be any string (what a newer API sends).

Each body must parse with its ``state``, keep ``raw_json`` as sent, and every attribute must be
readable (fields out of range read as ``None``). ``SCHEMA_PROPS_EXAMPLES`` sets the number of
bodies (default 300, about 10 s: hypothesis-jsonschema writes about 30-60 bodies a second here, so
each body goes through both skins in one test; the Rust property test runs 4000). The C ABI test needs the shared library: ``QOVERY_LIB``, or
``libqovery_redeploy.so`` under ``$CARGO_TARGET_DIR`` or ``target/`` (debug or release); it
is skipped without one.
"""

from __future__ import annotations

import copy
import ctypes
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Optional, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import qovery_redeploy as qr
from conftest import figures

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "tests" / "data" / "status-schema.json"
EXAMPLES = int(os.environ.get("SCHEMA_PROPS_EXAMPLES", "300"))
I64 = (-(2**63), 2**63 - 1)


def json_schema(loose_enums: bool) -> dict[str, Any]:
    """The committed OpenAPI schema as a self-contained JSON Schema."""
    doc = json.loads(SCHEMA_FILE.read_text())
    schemas = doc["components"]["schemas"]

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return convert(copy.deepcopy(schemas[node["$ref"].rsplit("/", 1)[1]]))
        out = {k: convert(v) for k, v in node.items()
               if not k.startswith("x-") and k not in ("nullable", "description", "default")}
        if out.get("type") == "object":
            # Closed here for speed (an open object makes hypothesis-jsonschema about 2x
            # slower); extra properties are added by `with_extras` instead.
            out["additionalProperties"] = False
        if loose_enums and "enum" in out:
            out = {"anyOf": [{"enum": out.pop("enum")}, {"type": "string"}]}
        if node.get("nullable"):
            out = {"anyOf": [out, {"type": "null"}]}
        return out

    return dict(convert(schemas["Status"]))


def with_extras(bodies: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Adds a few properties the schema does not name (what a newer API sends)."""
    extra = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in NAMES),
                            st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                                         lambda c: st.lists(c, max_size=3)
                                         | st.dictionaries(st.text(max_size=5), c, max_size=3),
                                         max_leaves=6),
                            max_size=3)
    return st.tuples(bodies, extra).map(lambda t: {**t[1], **t[0]})


NAMES = set(json_schema(False)["properties"])
STRICT = from_schema(json_schema(loose_enums=False))
LOOSE = with_extras(cast("st.SearchStrategy[dict[str, Any]]",
                         from_schema(json_schema(loose_enums=True))))
BODIES = st.one_of(STRICT, LOOSE)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def i64(value: Any) -> Optional[int]:
    """What a count or duration reads as: the integer if it fits 64 bits, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and I64[0] <= value <= I64[1]:
        return value
    return None


TIMES: dict[str, float] = {}
RAN: dict[str, int] = {}


def _timed(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Reports how many bodies a property test ran and how long it took, under "measured
    figures" at the end of the pytest run (and on stdout, seen with ``-s``)."""
    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            RAN[name] = 0
            t0 = time.monotonic()
            fn()
            TIMES[name] = time.monotonic() - t0
            print(f"\nschema_props {name}: {RAN[name]} examples in {TIMES[name]:.2f} s")
            figures(f"schema_props {name} (SCHEMA_PROPS_EXAMPLES={EXAMPLES})",
                    bodies=RAN[name], seconds=TIMES[name],
                    bodies_per_s=RAN[name] / max(TIMES[name], 1e-9),
                    c_abi_checked=int(C is not None))
        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        return run
    return wrap


@_timed("python+c")
@SETTINGS
@given(BODIES)
def test_generated_bodies_parse_through_python_and_the_c_abi(body: dict[str, Any]) -> None:
    """Each body through the Python package, then (if the library is there) the C ABI."""
    RAN["python+c"] = RAN.get("python+c", 0) + 1
    text = json.dumps(body)
    s = qr.DeploymentStatus.from_json(text)
    assert str(s.state) == body["state"]
    assert s.raw_json == text
    assert not s.accepted_unreadable
    assert s.deployment_requests_count == i64(body.get("deployment_requests_count"))
    # Every attribute reads without raising.
    for name in ("id", "service_deployment_status", "last_deployment_date",
                 "is_part_last_deployment", "execution_id", "deployment_request_id",
                 "is_success", "is_failure", "is_terminal"):
        getattr(s, name)
    d = s.status_details
    assert (d.action, d.status, d.sub_action) is not None
    steps = body.get("steps")
    if isinstance(steps, dict):
        assert s.steps is not None
        assert s.steps.total_duration_sec == i64(steps.get("total_duration_sec"))
        assert len(s.steps.details) == len(steps.get("details", []))
    repr(s)
    hash(s)
    s.to_dict()
    assert qr.DeploymentStatus.from_json(s.to_json()) == s
    if C is not None:
        check_c(body, text)


def test_the_c_abi_is_checked_too() -> None:
    if C is None:
        pytest.skip("libqovery_redeploy.so not built (set QOVERY_LIB): the C ABI half is skipped")


def _library() -> Optional[Path]:
    if os.environ.get("QOVERY_LIB"):
        return Path(os.environ["QOVERY_LIB"])
    roots = [Path(os.environ["CARGO_TARGET_DIR"])] if os.environ.get("CARGO_TARGET_DIR") else []
    roots.append(REPO / "target")
    for root in roots:
        for profile in ("debug", "release"):
            lib = root / profile / "libqovery_redeploy.so"
            if lib.exists():
                return lib
    return None


class _C:
    """The few C ABI functions this test needs, through ctypes."""

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))

        def fn(name: str, res: Any, *args: Any) -> Any:
            f = getattr(lib, name)
            f.restype, f.argtypes = res, list(args)
            return f

        p = ctypes.c_void_p
        self.parse = fn("qovery_status_from_json", p, ctypes.c_char_p)
        self.code = fn("qovery_result_code", ctypes.c_uint32, p)
        self.message = fn("qovery_result_message", ctypes.c_char_p, p)
        self.state = fn("qovery_result_state", ctypes.c_char_p, p)
        self.raw = fn("qovery_result_raw_json", ctypes.c_char_p, p)
        self.count = fn("qovery_result_deployment_requests_count", ctypes.c_bool, p,
                        ctypes.POINTER(ctypes.c_int64))
        self.total = fn("qovery_result_steps_total_duration_sec", ctypes.c_bool, p,
                        ctypes.POINTER(ctypes.c_int64))
        self.step_count = fn("qovery_result_step_count", ctypes.c_size_t, p)
        self.accepted = fn("qovery_result_accepted_unreadable", ctypes.c_bool, p)
        self.free = fn("qovery_result_free", None, p)
        self.strings = [fn(f"qovery_result_{n}", ctypes.c_char_p, p) for n in (
            "id", "service_deployment_status", "last_deployment_date", "execution_id",
            "status_details_action", "status_details_status", "status_details_sub_action",
            "deployment_request_id")]


LIB = _library()
C = _C(LIB) if LIB is not None else None


def check_c(body: dict[str, Any], text: str) -> None:
    """The same body through the C ABI (`qovery_status_from_json`)."""
    assert C is not None
    r = C.parse(text.encode())
    try:
        assert C.code(r) == 0, C.message(r)
        # A C string cannot hold NUL: the C ABI documents that one becomes U+FFFD.
        assert C.state(r).decode() == body["state"].replace("\x00", "\ufffd")
        assert C.raw(r).decode() == text
        assert not C.accepted(r)
        n = ctypes.c_int64(7)
        want = i64(body.get("deployment_requests_count"))
        assert C.count(r, ctypes.byref(n)) == (want is not None)
        assert n.value == (7 if want is None else want)
        steps = body.get("steps")
        if isinstance(steps, dict):
            want = i64(steps.get("total_duration_sec"))
            assert C.total(r, ctypes.byref(n)) == (want is not None)
            assert C.step_count(r) == len(steps.get("details", []))
        for getter in C.strings:
            getter(r)
    finally:
        C.free(r)


def test_the_loose_schema_still_generates_schema_bodies_and_unknown_values() -> None:
    """The generator itself: negative and beyond-64-bit counts, nulls, absent steps, extra
    properties and unknown states all occur."""
    seen: dict[str, int] = {}

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(LOOSE)
    def look(body: dict[str, Any]) -> None:
        count = body["deployment_requests_count"]
        marks = {
            "negative": isinstance(count, int) and count < 0,
            "beyond_i64": isinstance(count, int) and i64(count) is None,
            "null_request_id": body["deployment_request_id"] is None,
            "no_steps": "steps" not in body,
            "extra": bool(set(body) - set(json_schema(False)["properties"])),
            "unknown_state": body["state"] not in qr.State.KNOWN,
        }
        for k, v in marks.items():
            seen[k] = seen.get(k, 0) + int(v)

    look()
    missing = [k for k in ("negative", "null_request_id", "no_steps", "extra", "unknown_state")
               if not seen.get(k)]
    assert not missing, f"never generated: {missing} ({seen})"
