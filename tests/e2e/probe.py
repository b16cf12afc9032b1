"""Sends one remote-write request (an empty RW 1.0 body) over HTTPS and prints what came
back: the HTTP status, or `tls-error` when the TLS handshake failed.

    python3 probe.py URL CA_FILE [--cert CERT --key KEY] [--user NAME:PASSWORD] [--token TOKEN]
"""
import argparse
import base64
import ssl
import urllib.error
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("ca")
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--user")
parser.add_argument("--token")
args = parser.parse_args()

context = ssl.create_default_context(cafile=args.ca)
if args.cert:
    context.load_cert_chain(args.cert, args.key)
headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
           "X-Prometheus-Remote-Write-Version": "0.1.0", "User-Agent": "promscope-e2e-probe"}
if args.user:
    headers["Authorization"] = "Basic " + base64.b64encode(args.user.encode()).decode()
if args.token:
    headers["Authorization"] = "Bearer " + args.token
# An empty snappy block: a valid, empty RW 1.0 request.
request = urllib.request.Request(args.url, data=b"\x00", headers=headers, method="POST")
try:
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        print(response.status)
except urllib.error.HTTPError as e:
    print(e.code)
except (ssl.SSLError, ConnectionError, urllib.error.URLError) as e:
    # A refused handshake comes as the SSLError itself (TLS 1.3 alerts arrive on the first
    # read, after the request was written) or wrapped in a URLError's reason; an SSLError's
    # own `reason` is a string.
    cause = e.reason if isinstance(e, urllib.error.URLError) else e
    print("tls-error" if isinstance(cause, (ssl.SSLError, ConnectionError)) else f"error {e}")
