"""The entry point: gunicorn serves `wsgi:app`, and every `flask --app wsgi` command loads it.

Importing the app creates some 180,000 objects (SQLAlchemy, numpy, the app's own modules)
that live as long as the process. The cyclic garbage collector would walk them again and again
while they pile up, and again at exit, and find nothing to free. So it is off while they are
created, and gc.freeze() then sets them aside: later collections, the interpreter's last ones
at exit included, skip them. Together that takes about 0.4 s, a third, off every command
(bench/README.md, "startup.py"); a request's collections cost the same either way.
"""

import gc

gc.disable()
try:
    from core import create_app

    app = create_app()
finally:
    gc.enable()
gc.freeze()
