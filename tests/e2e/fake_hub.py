"""A stand-in for the Hugging Face Hub and ModelScope, as much of their HTTP APIs as `tern pull`
(and huggingface_hub's snapshot_download, for the shared-cache test) uses, on loopback: Hugging
Face's file tree, model info (`/api/models/{repo}/revision/{rev}?blobs=true`:
sha, siblings with blobId, size and lfs sha256), `resolve/{commit}/{path}` (small files served with
ETag and X-Repo-Commit; LFS files answered with a 302 to a separate "CDN" server carrying
X-Linked-Etag and X-Linked-Size), ModelScope's `/api/v1/models/{repo}/repo/files` listing and
`/repo?Revision=&FilePath=` download, byte ranges (206) everywhere, a token required for private
repositories, and faults to inject: a connection cut after N bytes, 503s before success, bytes that
do not match the published sha256, a slow stream. Every request is recorded."""
import hashlib
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Repo:
    def __init__(self, files, commit="0123456789abcdef0123456789abcdef01234567", private=False, lfs_above=1024):
        self.files, self.commit, self.private, self.lfs_above = files, commit, private, lfs_above

    def is_lfs(self, path):
        return len(self.files[path]) > self.lfs_above

    @staticmethod
    def git_blob_id(data):
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    """Two servers: the hub (API, resolve, ModelScope) and the CDN the hub redirects LFS files to."""

    def __init__(self, token="hub-secret"):
        self.repos, self.token, self.requests = {}, token, []
        self.cut_after, self.fail_503, self.corrupt, self.slow = {}, {}, set(), set()
        self.lock = threading.Lock()
        self.hub = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(cdn=False))
        self.cdn = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(cdn=True))
        for server in (self.hub, self.cdn):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.hub.server_address[1]}"
        self.cdn_url = f"http://127.0.0.1:{self.cdn.server_address[1]}"

    def stop(self):
        for server in (self.hub, self.cdn):
            server.shutdown()
            server.server_close()

    def requests_for(self, fragment):
        with self.lock:
            return [r for r in self.requests if fragment in r["path"]]

    def _handler(self, cdn):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def record(self):
                with hub.lock:
                    hub.requests.append({"server": "cdn" if cdn else "hub", "method": self.command, "path": self.path,
                                         "authorization": self.headers.get("Authorization"), "range": self.headers.get("Range")})

            def send_json(self, value, status=200):
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def authorized(self, repo):
                return not repo.private or self.headers.get("Authorization") == f"Bearer {hub.token}"

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                self.record()
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
                if cdn:
                    return self.serve_cdn(parts)
                if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "tree":
                    return self.tree("/".join(parts[2:4]))
                if parts[:2] == ["api", "models"] and len(parts) >= 4:
                    return self.model_info("/".join(parts[2:4]))
                if parts[:3] == ["api", "v1", "models"] and len(parts) >= 6 and parts[6:] == ["files"]:
                    return self.modelscope_files("/".join(parts[3:5]))
                if parts[:3] == ["api", "v1", "models"] and len(parts) == 6 and parts[5] == "repo":
                    return self.modelscope_file("/".join(parts[3:5]), query.get("FilePath", [""])[0])
                if len(parts) >= 5 and parts[2] == "resolve":
                    return self.resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]))
                self.send_json({"error": "not found"}, 404)

            def model_info(self, name):
                repo = hub.repos.get(name)
                if repo is None:
                    return self.send_json({"error": "Repository not found"}, 404)
                if not self.authorized(repo):
                    return self.send_json({"error": "Access to this repo is restricted"}, 401)
                siblings = []
                for path, data in repo.files.items():
                    entry = {"rfilename": path, "size": len(data), "blobId": Repo.git_blob_id(data)}
                    if repo.is_lfs(path):
                        entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                    siblings.append(entry)
                self.send_json({"id": name, "modelId": name, "sha": repo.commit, "private": repo.private, "siblings": siblings})

            def tree(self, name):
                """The file tree huggingface_hub lists a snapshot with (one page)."""
                repo = hub.repos.get(name)
                if repo is None:
                    return self.send_json({"error": "Repository not found"}, 404)
                entries = []
                for path, data in repo.files.items():
                    entry = {"type": "file", "oid": Repo.git_blob_id(data), "size": len(data), "path": path}
                    if repo.is_lfs(path):
                        entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                    entries.append(entry)
                self.send_json(entries)

            def resolve(self, name, revision, path):
                repo = hub.repos.get(name)
                if repo is None or path not in repo.files:
                    return self.send_json({"error": "Entry not found"}, 404)
                if not self.authorized(repo):
                    return self.send_json({"error": "restricted"}, 401)
                data = repo.files[path]
                if repo.is_lfs(path):
                    sha = hashlib.sha256(data).hexdigest()
                    self.send_response(302)
                    self.send_header("Location", f"{hub.cdn_url}/repos/{sha}?name={urllib.parse.quote(name)}&path={urllib.parse.quote(path)}")
                    self.send_header("X-Linked-Etag", f'"{sha}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                    self.send_header("X-Repo-Commit", repo.commit)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_bytes(f"{name}/{path}", data, {"ETag": f'"{Repo.git_blob_id(data)}"', "X-Repo-Commit": repo.commit})

            def serve_cdn(self, parts):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                name, path = query["name"][0], query["path"][0]
                self.send_bytes(f"{name}/{path}", hub.repos[name].files[path], {})

            def modelscope_files(self, name):
                repo = hub.repos.get(name)
                if repo is None:
                    return self.send_json({"Code": 10010205001, "Message": "model not found", "Success": False}, 404)
                files = [{"Name": p.split("/")[-1], "Path": p, "Size": len(d), "Sha256": hashlib.sha256(d).hexdigest(),
                          "Type": "blob", "Revision": repo.commit} for p, d in repo.files.items()]
                self.send_json({"Code": 200, "Data": {"Files": files}, "Message": "success", "Success": True})

            def modelscope_file(self, name, path):
                repo = hub.repos.get(name)
                if repo is None or path not in repo.files:
                    return self.send_json({"Code": 404, "Message": "file not found"}, 404)
                self.send_bytes(f"{name}/{path}", repo.files[path], {})

            def send_bytes(self, key, data, headers):
                with hub.lock:
                    if hub.fail_503.get(key, 0) > 0:
                        hub.fail_503[key] -= 1
                        failing = True
                    else:
                        failing = False
                    cut = hub.cut_after.pop(key, None)
                if failing:
                    return self.send_json({"error": "overloaded"}, 503)
                if key in hub.corrupt:
                    data = bytes(b ^ 0xFF for b in data[:16]) + data[16:]
                start, end, status = 0, len(data) - 1, 200
                requested = self.headers.get("Range")
                if requested and requested.startswith("bytes="):
                    first, _, last = requested[6:].partition("-")
                    start, end, status = int(first), int(last) if last else len(data) - 1, 206
                piece = data[start:end + 1]
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(piece)))
                self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                for header, value in headers.items():
                    self.send_header(header, value)
                self.end_headers()
                if self.command == "HEAD":
                    return
                if cut is not None:
                    self.wfile.write(piece[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                step = 4096 if key in hub.slow else len(piece) or 1
                for offset in range(0, len(piece), step):
                    self.wfile.write(piece[offset:offset + step])
                    if key in hub.slow:
                        self.wfile.flush()
                        time.sleep(0.01)

        return Handler
