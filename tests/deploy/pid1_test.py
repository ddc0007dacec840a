#!/usr/bin/env python3
"""`integr8scode serve` as PID 1, as in a container started without an init
(`podman run --entrypoint integr8scode …`): the server runs in a new PID namespace
(`unshare --pid --fork --mount-proc`), the test checks that it really is PID 1 there, that
it becomes ready (its sandbox spawner starts although the spawner's parent is PID 1) and
that it runs a program, and that SIGTERM stops it cleanly.

Environment: INTEGR8SCODE_BIN (the server, default build/ci/src/app/integr8scode). Root.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def children(pid):
    try:
        with open(f'/proc/{pid}/task/{pid}/children') as f:
            return [int(child) for child in f.read().split()]
    except FileNotFoundError:
        return []


def ns_pids(pid):
    """The pid in each PID namespace, outermost first (the NSpid line of /proc/PID/status)."""
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('NSpid:'):
                return [int(n) for n in line.split()[1:]]
    return []


def main():
    binary = os.environ.get('INTEGR8SCODE_BIN', os.path.join(ROOT, 'build/ci/src/app/integr8scode'))
    assert os.access(binary, os.X_OK), f'no server binary at {binary}'
    assert os.geteuid() == 0, 'the sandbox needs root'
    unshare = shutil.which('unshare')
    assert unshare, 'unshare (util-linux) not found'
    with tempfile.TemporaryDirectory(prefix='integr8scode-pid1-') as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith('INTEGR8SCODE_')}
        env.update({
            'INTEGR8SCODE_SERVER_LISTEN': f'127.0.0.1:{port}',
            'INTEGR8SCODE_SERVER_DATA_DIR': os.path.join(tmp, 'data'),
            'INTEGR8SCODE_CATALOG': os.path.join(ROOT, 'runtimes', 'catalog.toml'),
            'INTEGR8SCODE_AUTH_ARGON2': 'min',
        })
        log_path = os.path.join(tmp, 'server.log')
        with open(log_path, 'wb') as log:
            # --kill-child: the namespace (and the server) cannot outlive a failed test.
            outer = subprocess.Popen(
                [unshare, '--pid', '--fork', '--mount-proc', '--kill-child', binary, 'serve'],
                env=env, stdout=log, stderr=log)
        try:
            api = f'http://127.0.0.1:{port}/api/v1'
            server = None
            deadline = time.monotonic() + 120
            ready = False
            while time.monotonic() < deadline and outer.poll() is None:
                if server is None:
                    found = children(outer.pid)
                    server = found[0] if found else None
                try:
                    with urllib.request.urlopen(f'{api}/health/ready', timeout=2) as answer:
                        ready = answer.status == 200
                except OSError:
                    pass
                if ready:
                    break
                time.sleep(0.1)  # polling for readiness; the verdict does not depend on time
            assert ready, f'the server never became ready (exit code {outer.poll()})'
            assert server is not None, 'no server process under unshare'
            pids = ns_pids(server)
            assert len(pids) == 2 and pids[1] == 1, f'the server is not PID 1 of its namespace: {pids}'

            body = {'lang': 'python', 'lang_version': '3.11',
                    'script': 'import os\nprint("hello from", os.getpid())'}
            request = urllib.request.Request(f'{api}/execute?wait=true', json.dumps(body).encode(),
                                             {'Content-Type': 'application/json'})
            with urllib.request.urlopen(request, timeout=120) as answer:
                result = json.loads(answer.read())
            assert result['status'] == 'completed', result
            assert result['stdout'].startswith('hello from '), result

            # PID 1 gets only the signals it has a handler for: serve's SIGTERM handler must stop it.
            os.kill(server, signal.SIGTERM)
            assert outer.wait(timeout=60) == 0, f'serve as PID 1 exited with {outer.returncode} on SIGTERM'
        except BaseException:
            with open(log_path) as f:
                sys.stderr.write(''.join(f.readlines()[-20:]))
            raise
        finally:
            if outer.poll() is None:
                outer.kill()
                outer.wait()
    print('pid1: serve as PID 1 started its spawner, ran a program and stopped on SIGTERM')
    return 0


if __name__ == '__main__':
    sys.exit(main())
