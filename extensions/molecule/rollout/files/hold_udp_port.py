# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hold a UDP port on every address until STOP exists or READY is removed (at most 5 minutes).

    hold_udp_port.py PORT READY STOP

READY is created once the port is bound. With the test containers on the host's network, the port is then
taken for every host's agent too. A holder left by a converge that stopped midway ends when the next
converge empties the record directory (READY gone); the new holder waits up to 10 s for the port.
"""

import os
import socket
import sys
import time


def main(port, ready, stop):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    deadline = time.time() + 10
    while True:
        try:
            sock.bind(("0.0.0.0", port))
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    with open(ready, "w"):
        pass
    deadline = time.time() + 300
    while os.path.exists(ready) and not os.path.exists(stop) and time.time() < deadline:
        time.sleep(0.2)
    sock.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
