"""The tally kernel_test.py and notebook_test.py share: one line per failed check, then a
'N passed, N failed' summary line and the exit status."""
import shutil
import sys

passed, failed = 0, 0


def check(condition, what, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}" + (f": {detail}" if detail else ""), flush=True)


def finish(work):
    """Prints the summary and exits; the scratch folder is kept only when a check failed."""
    if not failed:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
