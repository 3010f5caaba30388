# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, whether each host's UDP address NAME:PORT is taken, tried by binding it on the controller.

    udp_taken.py NAME:PORT HOST...

NAME is resolved in each host's container ({host: "ADDRESS taken"|"ADDRESS free"}). The containers share the
controller's network, so a port an agent holds cannot be bound here.
"""

import json
import socket
import subprocess
import sys


def taken(name, port, host):
    address = subprocess.run(["podman", "exec", host, "getent", "hosts", name],
                             capture_output=True, text=True, check=True).stdout.split()[0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((address, port))
    except OSError:
        return address + " taken"
    finally:
        sock.close()
    return address + " free"


if __name__ == "__main__":
    name, port = sys.argv[1].rsplit(":", 1)
    print(json.dumps({host: taken(name, int(port), host) for host in sys.argv[2:]}))
