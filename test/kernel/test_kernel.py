"""jupyter_kernel_test's protocol suite against the otp-lab kernel.

Run by test/kernel-jupyter-kernel-test.test.ts with JUPYTER_PATH pointing at a temporary kernelspec prefix.
Every optional test of the suite gets a sample, so nothing is skipped (the vitest side asserts 0 skipped).
"""
import unittest

import jupyter_kernel_test


class OtpLabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "otp-lab"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("to stderr")'

    completion_samples = [
        {"text": "Math.ab", "matches": {"abs"}},
        {"text": "clearOu", "matches": {"clearOutput"}},
        {"text": "const zzUnique = 1; zzUniq", "matches": {"zzUnique"}},
    ]

    complete_code_samples = ["1 + 1", "const x = 1;", "function f() { return 1 }", "", "`a${1}b`"]
    incomplete_code_samples = ["function f() {", "const x = [1,", "const s = `abc", "if (x) {\n  f(", "const y ="]
    invalid_code_samples = ["1 +* 2", "}", "const = 5;", "let 5 = 1"]

    code_page_something = "Math.max?"

    code_generate_error = 'throw new Error("boom")'

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": "'a' + 'b'", "result": "'ab'"},
        {"code": "[1, 2].map((x) => x * 2)", "result": "[ 2, 4 ]"},
    ]

    code_display_data = [
        {"code": 'display.html("<b>bold</b>")', "mime": "text/html"},
        {"code": 'display.png(new Uint8Array([137, 80, 78, 71]))', "mime": "image/png"},
        {"code": 'display({ "text/markdown": "*hi*" }, { raw: true })', "mime": "text/markdown"},
    ]

    code_history_pattern = "1 + ?"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "display"

    code_clear_output = "clearOutput()"


if __name__ == "__main__":
    unittest.main(verbosity=2)
