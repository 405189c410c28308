"""The peer of bench/api_bench.py: the same authenticated read, GET /v1/projects/{id}, written
with FastAPI (the brief's original API stack), on the same SQLite state ProdSprint's server uses.

It does what ProdSprint's route does for an API token: hash the bearer token (SHA-256), find the
token (not revoked, not expired), find the project in the token's org (and workspace, if the
token has one), answer its JSON or a problem. One SQLite connection per worker thread, WAL mode,
as the database already is.

  PS_STATE_DB=/path/state.db uvicorn api_peer_fastapi:app --port P --workers 2
"""
import hashlib
import json
import os
import sqlite3
import threading
import time

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse

DB = os.environ["PS_STATE_DB"]
app = FastAPI()
_local = threading.local()


def db():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        _local.conn = conn
    return conn


def iso(ms):
    if not ms:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)


def problem(status, title, detail):
    return JSONResponse(status_code=status, media_type="application/problem+json",
                        content={"type": "about:blank", "title": title, "status": status,
                                 "detail": detail})


@app.get("/v1/projects/{project_id}")
def get_project(project_id: str, authorization: str = Header(default="")):
    if not authorization.lower().startswith("bearer "):
        return problem(401, "Authentication required", "no credentials")
    secret = authorization[7:].strip()
    digest = hashlib.sha256(secret.encode()).hexdigest()
    conn = db()
    row = conn.execute(
        "SELECT org_id, workspace_id, revoked_at, expires_at FROM api_tokens WHERE hash = ?",
        (digest,)).fetchone()
    now = int(time.time() * 1000)
    if row is None or row[2] or (row[3] and now >= row[3]):
        return problem(401, "Authentication required", "unknown API token")
    org_id, workspace_id = row[0], row[1]
    p = conn.execute(
        "SELECT id, org_id, workspace_id, name, repo_url, branch, target, region, state, "
        "created_at, updated_at FROM projects WHERE id = ? AND org_id = ? "
        "AND (? = '' OR workspace_id = ?)", (project_id, org_id, workspace_id, workspace_id)
    ).fetchone()
    if p is None:
        return problem(404, "project not found", "no project '%s'" % project_id)
    return {"id": p[0], "org_id": p[1], "workspace_id": p[2], "name": p[3], "repo_url": p[4],
            "branch": p[5], "target": p[6], "region": p[7], "state": p[8],
            "created_at": iso(p[9]), "updated_at": iso(p[10])}
