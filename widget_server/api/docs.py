"""/api/v1/docs: the OpenAPI document rendered here, as plain HTML (issue #25 item 3). No
Swagger UI or ReDoc: they load from a CDN; this page loads nothing from anywhere else."""
from flask import Blueprint, current_app, render_template

bp = Blueprint("api_docs_page", __name__, url_prefix="/api/v1", template_folder="templates",
               static_folder="static", static_url_path="/docs/static")

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: dict | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items'))}"
    return schema.get("type", "object")


def _body_schema(part: dict | None) -> str:
    content = (part or {}).get("content", {}).get("application/json", {})
    return _schema_name(content.get("schema"))


def operations(spec: dict) -> list[dict]:
    ops = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            ops.append({
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "tags": op.get("tags", []),
                "parameters": [*shared, *op.get("parameters", [])],
                "body": _body_schema(op.get("requestBody")),
                "responses": [(status, answer.get("description", ""), _body_schema(answer))
                              for status, answer in sorted(op.get("responses", {}).items())],
            })
    return ops


@bp.get("/docs")
def docs():
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    spec = api.spec.to_dict()
    html = render_template("api/docs.html", spec=spec, operations=operations(spec),
                           schemas=spec.get("components", {}).get("schemas", {}))
    # nothing but this server's stylesheet may load (B-1; no CDN)
    return html, 200, {"Content-Security-Policy": "default-src 'none'; style-src 'self'; "
                                                  "base-uri 'none'; form-action 'none'; "
                                                  "frame-ancestors 'none'"}
