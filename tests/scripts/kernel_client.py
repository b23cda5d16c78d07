"""Start the Jupyter kernel named argv[1], run argv[2] as one cell, print
what the cell printed (and the error's name and value if it failed)."""
import sys

from jupyter_client.manager import start_new_kernel


def main(kernel_name, code):
    km, kc = start_new_kernel(kernel_name=kernel_name, startup_timeout=60)
    out = []

    def hook(msg):
        content = msg["content"]
        if msg["msg_type"] == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif msg["msg_type"] == "error":
            out.append("%s: %s\n" % (content["ename"], content["evalue"]))

    try:
        reply = kc.execute_interactive(code, output_hook=hook, timeout=90)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print("".join(out), end="")
    print("status:", reply["content"]["status"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
