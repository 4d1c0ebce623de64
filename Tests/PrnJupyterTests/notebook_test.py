"""Checks the .ipynb notebooks prn writes with Jupyter's own tools.

Usage: python3 notebook_test.py PRN_EXECUTABLE

`prn run --notebook x.ipynb`, the REPL's `:save x.ipynb` and `prn merge --notebook x.ipynb` must
write notebooks nbformat's validator accepts; nbclient, running the notebook on the installed
prn kernel, must get the outputs prn's own run recorded; `prn run x.ipynb` must run its code cells
as the script did. Prints one line per failed check and ends with 'N passed, N failed'.
"""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ beside the tests
import tempfile

from checks import check, finish
import nbformat
from nbclient import NotebookClient

PRN = sys.argv[1]
work = tempfile.mkdtemp(prefix="prn-notebook-test-")
os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(work, "runtime")   # connection files: not in $HOME

SCRIPT = """\
# Text, a table, a plot, values, then an error.
print "hello"
t = table title="squares"
for i in range(3) {
  row t i=i square=(i * i) half=(i / 2)
}
show t
m = model lenet300 seed=1
plot hist m layer=fc1 to "hist.svg"
t.rows
t
x = nope + 1
"""


def prn(*args, stdin=None):
    return subprocess.run([PRN, *args], cwd=work, input=stdin, capture_output=True, text=True, timeout=120)


def valid(path):
    """Reads and validates a notebook with nbformat; returns it, or None after a failed check."""
    try:
        notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        nbformat.validate(notebook)
        check((notebook.nbformat, notebook.nbformat_minor) == (4, 5), f"{os.path.basename(path)} is nbformat 4.5")
        return notebook
    except Exception as error:  # the validator's message is the detail
        check(False, f"nbformat accepts {os.path.basename(path)}", error)
        return None


def normalized(outputs):
    """Outputs as comparable items: stdout text joined (a value's plain text counts as printed,
    as prn's notebooks record it), rich outputs by their data, errors by name, value and lines
    after the located first one (whose file and line differ between a script and a kernel)."""
    items, text = [], ""
    for output in outputs:
        kind = output["output_type"]
        data = output.get("data", {})
        if kind == "stream" or (kind == "execute_result" and set(data) == {"text/plain"}):
            text += output["text"] if kind == "stream" else data["text/plain"] + "\n"
            continue
        if text:
            items.append(("text", text))
            text = ""
        if kind == "error":
            items.append(("error", output["ename"], output["evalue"], tuple(output["traceback"][1:])))
        else:
            items.append(("display", json.dumps(dict(data), sort_keys=True)))
    if text:
        items.append(("text", text))
    return items


def test_run_writes_a_valid_notebook():
    with open(os.path.join(work, "demo.prn"), "w") as f:
        f.write(SCRIPT)
    result = prn("run", "demo.prn", "--notebook", "demo.ipynb", "--results", "demo.jsonl")
    check(result.returncode == 1, "the script stops at its error", result.stderr)
    notebook = valid(os.path.join(work, "demo.ipynb"))
    if notebook is None:
        return None
    check(notebook.metadata.kernelspec.name == "prn" and notebook.metadata.language_info.name == "prn",
          "the notebook names the prn kernel", notebook.metadata)
    check(notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# demo.prn"),
          "a Markdown cell with the title first", notebook.cells[0])
    check("| seed |" in notebook.cells[0].source, "the provenance table is in the first cell", notebook.cells[0].source)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    check([cell.source.splitlines()[0] for cell in code] ==
          ["# Text, a table, a plot, values, then an error.", "t = table title=\"squares\"", "for i in range(3) {",
           "show t", "m = model lenet300 seed=1", "plot hist m layer=fc1 to \"hist.svg\"", "t.rows", "t", "x = nope + 1"],
          "one code cell per statement", [cell.source for cell in code])
    outputs = {cell.source.splitlines()[-1]: cell.outputs for cell in code}
    check(outputs["print \"hello\""] == [{"output_type": "stream", "name": "stdout", "text": "hello\n"}],
          "printed text is a stdout stream", outputs["print \"hello\""])
    table = outputs["show t"][0]
    check(table.output_type == "display_data" and set(table.data) == {"text/plain", "text/markdown", "text/html"},
          "a table is display_data with plain, markdown and html", table)
    check("| i | square | half |" in table.data["text/markdown"] and "| 2 | 4 | 1.0 |" in table.data["text/markdown"],
          "the markdown table holds the rows", table.data["text/markdown"])
    plot = outputs["plot hist m layer=fc1 to \"hist.svg\""][0]
    check(plot.output_type == "display_data" and plot.data["image/svg+xml"] == open(os.path.join(work, "hist.svg")).read(),
          "the plot's SVG is inline", plot)
    error = outputs["x = nope + 1"][0]
    check(error.output_type == "error" and error.evalue == "unknown name 'nope'"
          and error.traceback[0] == "demo.prn:12:5: error: unknown name 'nope'", "the error is an error output", error)
    return notebook


def test_save_and_merge_write_valid_notebooks():
    result = prn(stdin="a = 2\nprint a * 3\nt = table\nrow t a=a\nt\n:save session.ipynb\n")
    check("saved" in result.stdout, ":save reports the file", result.stdout + result.stderr)
    notebook = valid(os.path.join(work, "session.ipynb"))
    if notebook is not None:
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        check(any(o.get("text") == "6\n" for cell in code for o in cell.outputs), "the session's output is saved", code)
    result = prn("merge", "demo.jsonl", "--notebook", "merged.ipynb")
    check(result.returncode == 0, "prn merge ran", result.stderr)
    valid(os.path.join(work, "merged.ipynb"))
    result = prn("run", "demo.prn", "--notebook", "demo.md")
    check(open(os.path.join(work, "demo.md")).read().startswith("# demo.prn"), ".md stays Markdown")


def test_nbclient_gets_prns_outputs(notebook):
    subprocess.run([PRN, "kernel", "install", "--prefix", work], check=True, capture_output=True)
    os.environ["JUPYTER_PATH"] = os.path.join(work, "share/jupyter")
    executed = nbformat.read(os.path.join(work, "demo.ipynb"), as_version=4)
    client = NotebookClient(executed, kernel_name="prn", timeout=60, allow_errors=True,
                            resources={"metadata": {"path": work}})
    client.execute()
    nbformat.validate(executed)
    for ours, theirs in zip(notebook.cells, executed.cells):
        if ours.cell_type != "code":
            continue
        check(normalized(ours.outputs) == normalized(theirs.outputs), f"nbclient's outputs for {ours.source!r}",
              f"\nprn run: {normalized(ours.outputs)}\nkernel:  {normalized(theirs.outputs)}")
    counts = [cell.execution_count for cell in executed.cells if cell.cell_type == "code"]
    check(counts == sorted(counts) and len(set(counts)) == len(counts), "nbclient's execution counts increase", counts)


def test_run_runs_a_notebooks_code_cells():
    script = prn("run", "demo.prn")
    notebook = prn("run", "demo.ipynb")
    check(notebook.stdout == script.stdout and notebook.returncode == script.returncode,
          "prn run x.ipynb prints what the script printed", (script.stdout, notebook.stdout, notebook.stderr))
    check("error: unknown name 'nope'" in notebook.stderr, "its error is reported", notebook.stderr)


def main():
    notebook = test_run_writes_a_valid_notebook()
    test_save_and_merge_write_valid_notebooks()
    if notebook is not None:
        test_nbclient_gets_prns_outputs(notebook)
    test_run_runs_a_notebooks_code_cells()
    finish(work)


main()
