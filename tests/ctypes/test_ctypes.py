"""The raw C ABI driven from Python's ctypes (no pyo3, no pip package): proves the library is
usable from a dynamic FFI with nothing but the header's types.

    QOVERY_LIB=<path to libqovery_redeploy.so> QOVERY_MOCK_URL=http://127.0.0.1:PORT \
    QOVERY_EXPECTED_VERSION=0.1.0 python3 tests/ctypes/test_ctypes.py
"""

import ctypes
import json
import os
import sys
import unittest
import uuid
from pathlib import Path
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char_p, c_int, c_size_t,
                    c_int64, c_uint16, c_uint32, c_uint64, c_void_p)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mockctl import Control  # noqa: E402  (tests/mockctl.py: the one mock helper)

LIB = ctypes.CDLL(os.environ["QOVERY_LIB"])
MOCK = Control.from_env()
TOKEN = MOCK.token.encode()

# Codes from the header (numbers are ABI).
OK, INVALID_ARGUMENT, NULL_PARAMETER, NOT_FOUND, CANCELLED, DEPLOYMENT_FAILED = 0, 1, 2, 5, 17, 15


class RedeployOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("apply_immediately", c_uint32), ("cancel", c_void_p)]


class WaitOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("timeout_ms", c_uint64), ("poll_interval_ms", c_uint64),
                ("settle_delay_ms", c_uint64), ("cancel", c_void_p), ("accepted", c_void_p)]


PROGRESS = CFUNCTYPE(c_int, c_void_p, c_void_p)


def declare(name, restype, *argtypes):
    fn = getattr(LIB, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


version = declare("qovery_version", c_char_p)
code_name = declare("qovery_code_name", c_char_p, c_uint32)
options_new = declare("qovery_client_options_new", c_void_p)
options_free = declare("qovery_client_options_free", None, c_void_p)
set_token = declare("qovery_client_options_set_token", c_uint32, c_void_p, c_char_p)
set_base_url = declare("qovery_client_options_set_base_url", c_uint32, c_void_p, c_char_p)
client_new = declare("qovery_client_new", c_uint32, c_void_p, POINTER(c_void_p), POINTER(c_void_p))
client_free = declare("qovery_client_free", None, c_void_p)
redeploy = declare("qovery_redeploy_database", c_void_p, c_void_p, c_char_p, POINTER(RedeployOptions))
status = declare("qovery_database_status", c_void_p, c_void_p, c_char_p)
wait_for = declare("qovery_wait_for_database", c_void_p, c_void_p, c_char_p, POINTER(WaitOptions),
                   PROGRESS, c_void_p)
redeploy_and_wait = declare("qovery_redeploy_and_wait", c_void_p, c_void_p, c_char_p,
                            POINTER(RedeployOptions), POINTER(WaitOptions), PROGRESS, c_void_p)
redeploy_options_init = declare("qovery_redeploy_options_init", None, POINTER(RedeployOptions))
wait_options_init = declare("qovery_wait_options_init", None, POINTER(WaitOptions))
result_free = declare("qovery_result_free", None, c_void_p)
result_code = declare("qovery_result_code", c_uint32, c_void_p)
result_message = declare("qovery_result_message", c_char_p, c_void_p)
result_state = declare("qovery_result_state", c_char_p, c_void_p)
result_id = declare("qovery_result_id", c_char_p, c_void_p)
result_request_id = declare("qovery_result_deployment_request_id", c_char_p, c_void_p)
result_raw_json = declare("qovery_result_raw_json", c_char_p, c_void_p)
result_http_status = declare("qovery_result_http_status", c_uint16, c_void_p)
result_count = declare("qovery_result_deployment_requests_count", c_bool, c_void_p, POINTER(c_int64))
result_step_count = declare("qovery_result_step_count", c_size_t, c_void_p)
result_step_name = declare("qovery_result_step_name", c_char_p, c_void_p, c_size_t)
result_belongs = declare("qovery_result_belongs", c_uint32, c_void_p)
result_summary = declare("qovery_result_summary", c_char_p, c_void_p)
BELONGS_UNKNOWN, BELONGS_OURS, BELONGS_EARLIER = 0, 1, 2


def new_database(**config):
    return MOCK.database(**config)


class Result:
    """Owns a qovery_result *."""

    def __init__(self, ptr):
        assert ptr, "calls never return NULL"
        self.ptr = ptr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        result_free(self.ptr)

    code = property(lambda self: result_code(self.ptr))
    message = property(lambda self: result_message(self.ptr).decode())
    state = property(lambda self: (result_state(self.ptr) or b"").decode() or None)


class CtypesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        options = options_new()
        assert set_token(options, TOKEN) == OK
        assert set_base_url(options, MOCK.url.encode()) == OK
        client, error = c_void_p(), c_void_p()
        assert client_new(options, ctypes.byref(client), ctypes.byref(error)) == OK
        assert not error.value
        options_free(options)
        cls.client = client

    @classmethod
    def tearDownClass(cls):
        client_free(cls.client)

    def test_version_and_codes(self):
        self.assertEqual(version().decode(), os.environ["QOVERY_EXPECTED_VERSION"])
        self.assertEqual(code_name(NOT_FOUND), b"not_found")
        self.assertEqual(code_name(12345), b"unknown")

    def test_struct_layout_matches_the_library(self):
        wait = WaitOptions()
        wait_options_init(ctypes.byref(wait))
        self.assertEqual(wait.struct_size, ctypes.sizeof(WaitOptions))
        self.assertEqual((wait.timeout_ms, wait.poll_interval_ms, wait.settle_delay_ms),
                         (1_800_000, 3_000, 10_000))
        redeploy_opts = RedeployOptions()
        redeploy_options_init(ctypes.byref(redeploy_opts))
        self.assertEqual(redeploy_opts.struct_size, ctypes.sizeof(RedeployOptions))

    def test_redeploy_then_wait_with_progress(self):
        db = new_database(tick_ms=50)
        opts = RedeployOptions()
        redeploy_options_init(ctypes.byref(opts))
        opts.apply_immediately = 1
        with Result(redeploy(self.client, db.encode(), ctypes.byref(opts))) as accepted:
            self.assertEqual(accepted.code, OK, accepted.message)
            self.assertEqual(accepted.state, "QUEUED")
            self.assertEqual(result_id(accepted.ptr).decode(), db)
            body = json.loads(result_raw_json(accepted.ptr))
            self.assertEqual(body["id"], db)
            count = c_int64()
            self.assertTrue(result_count(accepted.ptr, ctypes.byref(count)))
            self.assertEqual(count.value, 1)
            self.assertIs(MOCK.view(db)["last_apply_immediately"], True)

            seen = []
            belongs = []

            @PROGRESS
            def progress(status_ptr, _user_data):
                seen.append(result_state(status_ptr).decode())
                belongs.append(result_belongs(status_ptr))
                self.assertTrue(result_summary(status_ptr).decode().startswith(seen[-1] + " ("))
                return 0

            wait = WaitOptions()
            wait_options_init(ctypes.byref(wait))
            wait.poll_interval_ms, wait.timeout_ms = 20, 30_000
            wait.accepted = accepted.ptr
            with Result(wait_for(self.client, db.encode(), ctypes.byref(wait), progress, None)) as done:
                self.assertEqual(done.code, OK, done.message)
                self.assertEqual(done.state, "DEPLOYED")
                self.assertEqual(result_request_id(done.ptr), result_request_id(accepted.ptr))
                self.assertGreaterEqual(result_step_count(done.ptr), 1)
                self.assertIsNotNone(result_step_name(done.ptr, 0))
                self.assertIsNone(result_step_name(done.ptr, 99))
            self.assertEqual(seen[-1], "DEPLOYED")
            self.assertIn("DEPLOYING", seen)
            # Waiting for the accepted redeploy: every status carries its request id.
            self.assertEqual(set(belongs), {BELONGS_OURS}, belongs)

    def test_callback_cancels(self):
        db = new_database(tick_ms=100)

        @PROGRESS
        def stop(_status_ptr, _user_data):
            return 1

        with Result(redeploy_and_wait(self.client, db.encode(), None, None, stop, None)) as r:
            self.assertEqual(r.code, CANCELLED, r.message)
            self.assertEqual(r.state, "QUEUED")  # the 202 status, reported first

    def test_deployment_failure(self):
        db = new_database(tick_ms=20, outcome="DEPLOYMENT_ERROR")
        wait = WaitOptions()
        wait_options_init(ctypes.byref(wait))
        wait.poll_interval_ms = 20
        with Result(redeploy_and_wait(self.client, db.encode(), None, ctypes.byref(wait),
                                      PROGRESS(), None)) as r:
            self.assertEqual(r.code, DEPLOYMENT_FAILED, r.message)
            self.assertEqual(r.state, "DEPLOYMENT_ERROR")

    def test_errors(self):
        with Result(status(self.client, str(uuid.uuid4()).encode())) as r:
            self.assertEqual(r.code, NOT_FOUND)
            self.assertEqual(result_http_status(r.ptr), 404)
        with Result(status(self.client, None)) as r:
            self.assertEqual(r.code, NULL_PARAMETER)
            self.assertIn("database_id", r.message)
        with Result(status(None, b"x")) as r:
            self.assertEqual(r.code, NULL_PARAMETER)
        with Result(status(self.client, b"\xff\xfe not utf-8")) as r:
            self.assertEqual(r.code, INVALID_ARGUMENT)
            self.assertIn("UTF-8", r.message)
        bad = RedeployOptions()  # struct_size 0: never initialised
        with Result(redeploy(self.client, str(uuid.uuid4()).encode(), ctypes.byref(bad))) as r:
            self.assertEqual(r.code, INVALID_ARGUMENT)
            self.assertIn("struct_size", r.message)
        self.assertEqual(result_code(None), NULL_PARAMETER)
        result_free(None)


if __name__ == "__main__":
    unittest.main(verbosity=2)
