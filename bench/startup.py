"""How long a command takes to start: the app, and the libraries it cannot start without.

Every `flask --app wsgi ...` command (the cron jobs, `analysis export`) and every gunicorn
worker starts a fresh interpreter and imports the app. This times, in fresh processes taking
turns (so that a busy moment of the machine falls on all of them alike), the median and the
fastest of --runs:

- `python -c pass`: the interpreter alone;
- the libraries the app needs to start (Flask's CLI, Flask-SQLAlchemy and the ORM, numpy; not
  scipy, which analysis/quantiles.py replaces), imported plainly, then as wsgi.py imports the
  app (the garbage collector off meanwhile, then frozen; one OpenBLAS thread): a floor no
  change to the app can go below;
- `python -c "import wsgi"`: the app;
- `python -m flask --app wsgi analysis export --help`: a whole command that does no work.

    .venv/bin/python bench/startup.py
    .venv/bin/python bench/startup.py --runs 21 --app-dir /tmp/other-checkout
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

import benchlib

LIBRARIES = "import flask.cli, flask_sqlalchemy, sqlalchemy.orm, numpy"
# As wsgi.py and analysis/__init__.py start them: collector off meanwhile, then frozen; one
# OpenBLAS thread.
AS_THE_APP = (
    "import gc, os; os.environ['OPENBLAS_NUM_THREADS'] = '1'; gc.disable(); "
    f"{LIBRARIES}; gc.enable(); gc.freeze()"
)
COMMANDS = {
    "interpreter (python -c pass)": ["-c", "pass"],
    "libraries, plain import": ["-c", LIBRARIES],
    "libraries, as the app starts them": ["-c", AS_THE_APP],
    "import wsgi": ["-c", "import wsgi"],
    "flask --app wsgi analysis export --help": ["-m", "flask", "--app", "wsgi", "analysis",
                                                "export", "--help"],
}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each (default: 15)")
    parser.add_argument("--app-dir", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout to start (default: this one)")  # fmt: skip
    args = parser.parse_args()
    benchlib.use_app_dir(str(args.app_dir))  # and compile it, as an installed app is
    env = dict(os.environ, PYTHONPATH=str(args.app_dir))
    for command in COMMANDS.values():  # once each first: file caches, bytecode
        benchlib.timed_process(command, args.app_dir, env, 120)
    laps: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            laps[name].append(benchlib.timed_process(command, args.app_dir, env, 120))
    print(f"{args.app_dir}: {args.runs} runs each, taking turns; seconds")
    print(f"{'':42} {'wall median':>11} {'fastest':>8} {'CPU median':>10}")
    for name, runs in laps.items():
        wall = [w for w, _ in runs]
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:42} {statistics.median(wall):11.3f} {min(wall):8.3f} {cpu:10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
