"""The yardstick: Flask's hello-world, served by the same gunicorn settings as the app.

Its throughput is the ceiling for a Flask page on this machine with this server and this load
generator; each widget page is reported as a fraction of it, measured in the same run.
"""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"

