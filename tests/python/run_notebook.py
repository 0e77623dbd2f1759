#!/usr/bin/python3
"""Runs a course notebook (examples/notebooks/) headless with nbclient and
checks what it prints against README's "Reproduced course results" table:
each "README <key>: <value>" line must equal the numpy-init cell of the row
<key> names. It also checks that the graph (SVG) and the equations (LaTeX)
were drawn inline.

    PYTHONPATH=build/python /usr/bin/python3 tests/python/run_notebook.py examples/notebooks/planar.ipynb

Exit 77 (skipped) when the course data is missing (a user's clone lacks
../shared: README "Course data"), or when python3-nbclient or
python3-ipykernel is missing, except under CI=true, where a missing package
fails (scripts/setup-debian.sh installs them; the data is not a package).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The notebook's key -> the start of its row in README's results table.
ROWS = {
    "planar": "Planar flower 2-4-1 tanh",
    "planar sweep": "Planar hidden sizes",
    "cat2": "Cats 2-layer",
    "catL": "Cats L-layer",
}


def skip(message):
    print(f"skipped: {message}", file=sys.stderr)
    return 77


def course_data():
    if os.environ.get("DAGRAD_COURSE_DATA"):
        return os.environ["DAGRAD_COURSE_DATA"]
    return os.path.join(os.path.dirname(ROOT), "shared", "data", "course")


def readme_cells():
    """{row start: numpy-init cell} from README's results table."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    table = text.split("<!-- results:table begin -->")[1].split("<!-- results:table end -->")[0]
    out = {}
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for key, start in ROWS.items():
            if cells[0].startswith(start):
                out[key] = cells[2]
    return out


def main():
    path = os.path.abspath(sys.argv[1])
    ci = os.environ.get("CI", "").lower() in ("true", "1")
    try:
        import nbclient
        import nbformat
        import ipykernel  # noqa: F401  (the kernel nbclient starts)
    except ImportError as e:
        if ci:
            print(f"CI=true, and {e.name} is missing: the notebooks cannot run", file=sys.stderr)
            return 1
        return skip(f"{e.name} is missing (python3-nbclient, python3-ipykernel): {os.path.basename(path)} not run")
    data = course_data()
    if not os.path.isdir(os.path.join(data, "csv")):
        return skip(f"the course data is not at {data} (README 'Course data'; DAGRAD_COURSE_DATA): "
                    f"{os.path.basename(path)} not run")
    # The kernel runs in the notebook's folder: a relative PYTHONPATH
    # (build/python) must name the same folder there.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": os.path.dirname(path)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:
        print(f"{os.path.basename(path)}: a cell failed:\n{str(e)[-2000:]}", file=sys.stderr)
        return 1
    printed, kinds = [], set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                printed.append(out.get("text", ""))
            kinds.update(out.get("data", {}).keys())
    text = "".join(printed)
    print(text)
    failures = []
    for kind, what in [("image/svg+xml", "the graph (dagrad.dot)"), ("text/latex", "the equations (dagrad.explain)")]:
        if kind not in kinds:
            failures.append(f"no {kind} output: {what} was not drawn inline")
    want = readme_cells()
    found = re.findall(r"^README (.+?): (.+)$", text, flags=re.M)
    if not found:
        failures.append("the notebook printed no 'README <key>: <value>' line")
    for key, value in found:
        if key not in want:
            failures.append(f"README has no results row for '{key}'")
        elif value.strip() != want[key]:
            failures.append(f"{key}: the notebook printed '{value.strip()}', README's table says '{want[key]}'")
        else:
            print(f"ok: {key}: {value.strip()} (README: {want[key]})")
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
