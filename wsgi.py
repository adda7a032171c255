"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""
import gc

from widget_server import create_app

app = create_app()

# The app's modules, routes, templates and catalogues (hundreds of thousands of objects that
# live as long as the process) leave the cyclic garbage collector's view, and young collections
# run every 10,000 allocations rather than 700: a page allocates tens of thousands of short-lived
# objects, and collecting them (almost all freed by reference counting anyway) while traversing
# everything the app holds cost about a tenth of a page's time (issue #26, `make bench`).
gc.collect()
gc.freeze()
gc.set_threshold(10_000, 10, 10)
