"""A small HTTP/1.x reader over a raw socket, for behaviour client libraries hide: pipelining,
half-close, HTTP/1.0, interim responses, malformed framing."""
import socket


class Response:
    def __init__(self, version, status, headers, body):
        self.version, self.status, self.headers, self.body = version, status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())


class Connection:
    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def half_close(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buffer += chunk

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode("latin-1")

    def _exactly(self, count):
        while len(self.buffer) < count:
            self._fill()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_response(self, head_only=False):
        """Reads one response; interim 1xx responses are returned like any other."""
        version, status = self._line().split(" ", 2)[:2]
        headers = {}
        while (line := self._line()) != "":
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        status = int(status)
        if head_only or 100 <= status < 200 or status in (204, 304):
            return Response(version, status, headers, b"")
        if "content-length" in headers:
            return Response(version, status, headers, self._exactly(int(headers["content-length"])))
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while (size := int(self._line().split(";")[0], 16)) > 0:
                body += self._exactly(size)
                self._exactly(2)
            self._line()
            return Response(version, status, headers, body)
        return Response(version, status, headers, self.read_until_closed())

    def read_until_closed(self):
        while True:
            try:
                self._fill()
            except EOFError:
                data, self.buffer = self.buffer, b""
                return data

    def is_closed_by_server(self, wait=5.0):
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except (socket.timeout, ConnectionResetError):
            return False


def request(method, path, body=b"", headers=None, version="HTTP/1.1"):
    """The bytes of one request; `headers` may override Content-Length and Host."""
    fields = {"Host": "127.0.0.1"}
    if body or method == "POST":
        fields["Content-Length"] = str(len(body))
        fields["Content-Type"] = "application/json"
    fields.update(headers or {})
    head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    return head.encode() + body
