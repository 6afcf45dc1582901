"""A test CA and certificates made with the openssl command line at test time."""
import subprocess


def run(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory, name="Tern Test CA"):
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", f"/CN={name}", cwd=directory)
    return directory / "ca.pem"


def make_certificate(directory, stem, common_name, key="rsa", client=False):
    """A certificate signed by the CA in `directory`; `key` is "rsa" or "ec"."""
    if key == "ec":
        run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{stem}.key", cwd=directory)
    else:
        run("genrsa", "-out", f"{stem}.key", "2048", cwd=directory)
    run("req", "-new", "-key", f"{stem}.key", "-out", f"{stem}.csr", "-subj", f"/CN={common_name}", cwd=directory)
    usage = "clientAuth" if client else "serverAuth"
    extensions = directory / f"{stem}.ext"
    extensions.write_text(f"subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage={usage}\n")
    run("x509", "-req", "-in", f"{stem}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", f"{stem}.pem",
        "-days", "2", "-extfile", extensions.name, cwd=directory)
    return directory / f"{stem}.pem", directory / f"{stem}.key"
