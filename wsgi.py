"""The entry point: gunicorn serves `wsgi:app`, and every `flask --app wsgi` command loads it.

Importing the app creates about a million objects (SQLAlchemy, numpy, scipy, the app's own
modules) that live as long as the process. The cyclic garbage collector, left on meanwhile,
walks them again and again while they pile up and finds nothing to free: a third of the
start-up of every command and worker (bench/README.md, "Start-up"). So it is off while they
are created, and gc.freeze() then sets them aside, so that later collections in a request or a
command skip them.
"""

import gc

gc.disable()
try:
    from core import create_app

    app = create_app()
finally:
    gc.enable()
gc.freeze()
