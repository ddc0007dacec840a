#!/usr/bin/env python3
"""Monitoring against the real thing: a real Prometheus (Debian's package, loopback only)
scrapes a real `integr8scode serve`; the test runs executions of every status it can cause,
logins, lockouts and rate-limit refusals, then evaluates through Prometheus' HTTP API every
panel query of every Grafana dashboard and every rule of deploy/monitoring:

- every query and rule parses and evaluates (no error, rule health "ok");
- every dashboard query and recording rule returns data (a non-NaN sample): a panel that
  shows nothing is a bug;
- every metric an alert reads exists, so an alert cannot be silently dead.

The one exception is PENDING: metrics expected absent from this run (none today).
It also checks the logs: one JSON object a line; the execute request's line carries the
request id the client sent (X-Request-Id, echoed) and the execution id.

Environment: INTEGR8SCODE_BIN (the server, default build/ci/src/app/integr8scode);
INTEGR8SCODE_MONITORING_SCREENSHOTS=DIR also takes screenshots of the dashboards' queries in
Prometheus' UI (tests/deploy/screenshots.mjs; docs/images holds the committed ones).
"""
import calendar
import glob
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MONITORING = os.path.join(ROOT, 'deploy', 'monitoring')

# Metrics expected absent from a single `serve --role all` run (none today); queries over them
# are evaluated (they must parse) but may be empty.
PENDING = {}

# Grafana's interval variables, as Grafana would expand them for a 1 s scrape interval.
GRAFANA_VARIABLES = {'$__rate_interval': '1m', '$__interval': '15s', '$__range': '5m'}

# Words of PromQL that look like metric names.
PROMQL_WORDS = {
    'sum', 'by', 'rate', 'increase', 'histogram_quantile', 'max', 'min', 'count', 'avg', 'or',
    'and', 'unless', 'vector', 'clamp_min', 'deriv', 'le', 'on', 'without', 'timestamp',
    'ignoring', 'group_left', 'bool', 'abs', 'offset',
}


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_until(what, predicate, deadline_s=60):
    """Polls until predicate() is true; a deadline only bounds a broken setup."""
    end = time.monotonic() + deadline_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f'gave up waiting for {what}')
        time.sleep(0.2)


class Prometheus:
    def __init__(self, url):
        self.url = url

    def query(self, expr):
        """Returns (ok, result or error)."""
        status, _, body = http('GET', f'{self.url}/api/v1/query?' +
                               urllib.parse.urlencode({'query': expr}))
        answer = json.loads(body)
        if status != 200 or answer.get('status') != 'success':
            return False, answer.get('error', f'HTTP {status}')
        return True, answer['data']['result']

    def api(self, path):
        status, _, body = http('GET', f'{self.url}{path}')
        assert status == 200, f'{path}: HTTP {status}'
        return json.loads(body)['data']


def has_samples(result):
    return any(not math.isnan(float(item['value'][1])) for item in result)


def metric_names(expr):
    expr = re.sub(r'\{[^}]*\}', '', expr)
    expr = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', '', expr)
    expr = re.sub(r'"[^"]*"', '', expr)
    expr = re.sub(r'\[[^\]]*\]', '', expr)
    names = set(re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', expr))
    names = {n for n in names if n not in PROMQL_WORDS and not re.fullmatch(r'[0-9e]+', n)}
    # Histograms are read through their series.
    return {re.sub(r'_(bucket|sum|count)$', '', n) if n.startswith('integr8scode_') else n
            for n in names}


def pending_in(expr):
    return sorted(name for name in PENDING if name in expr)


def run_traffic(api, first):
    """One round of every status the sandbox can cause; the first round adds the account
    traffic and ends with auth rate-limit refusals (the limit then holds for the test)."""
    def execute(script, lang='python', version='3.11', limits=None, wait=True, headers=None):
        body = {'script': script, 'lang': lang, 'lang_version': version}
        if limits:
            body['limits'] = limits
        suffix = '?wait=true' if wait else ''
        status, response_headers, answer = http('POST', f'{api}/execute{suffix}', body,
                                                headers=headers)
        return status, response_headers, json.loads(answer)

    expected = {
        'completed': ("print('hello')", 'python', '3.11', None),
        'failed': ('raise SystemExit(3)', 'python', '3.11', None),
        'timed_out': ('while True: pass', 'python', '3.11', {'timeout_ms': 300}),
        'memory_exceeded': ('x = bytearray(256 * 1024 * 1024)\nprint(len(x))', 'python', '3.11',
                            {'memory_bytes': 32 * 1024 * 1024}),
        'output_exceeded': ("print('x' * 100000)", 'python', '3.11', {'output_bytes': 1024}),
        'compile_error': ('int main( { return 0; }', 'c', '12', None),
    }
    for want, (script, lang, version, limits) in expected.items():
        status, _, answer = execute(script, lang, version, limits)
        assert status == 200, f'{want}: HTTP {status} {answer}'
        assert answer['status'] == want, f'expected {want}, got {answer["status"]}: {answer}'
    # PyPy too, so that the per-runtime panels have more than one runtime.
    status, _, answer = execute("print('pypy')", 'python', '3.9')
    assert status == 200 and answer['status'] == 'completed', answer
    # Cancelled: a long run, cancelled while it runs or waits.
    status, _, answer = execute('import time\ntime.sleep(30)', limits={'timeout_ms': 20000},
                                wait=False)
    assert status == 202, answer
    status, _, body = http('POST', f'{api}/executions/{answer["execution_id"]}/cancel')
    assert status == 200 and json.loads(body)['status'] == 'cancelled', body
    # A client error: an unknown runtime.
    status, _, _ = execute('print(1)', 'cobol', '85')
    assert status == 422

    # Accounts: a registration, a taken name, a login, wrong passwords until the lock; then
    # the auth rate limit (rate_limits.auth_per_minute).
    if first:
        accounts(api)
        for _ in range(40):
            if http('POST', f'{api}/auth/login', {'username': 'nobody', 'password': 'x' * 8})[0] == 429:
                break
        else:
            raise AssertionError('the auth rate limit never answered 429')


def accounts(api):
    user = f'user{time.monotonic_ns() % 10**9}'
    password = 'correct horse battery'
    body = {'username': user, 'email': f'{user}@example.com', 'password': password}
    assert http('POST', f'{api}/auth/register', body)[0] == 201
    assert http('POST', f'{api}/auth/register', body)[0] == 409
    assert http('POST', f'{api}/auth/login', {'username': user, 'password': password})[0] == 200
    codes = [http('POST', f'{api}/auth/login', {'username': user, 'password': 'wrong-password'})[0]
             for _ in range(3)]
    # auth.lockout_failures = 2: the second failure locks the account.
    assert codes == [401, 423, 423], codes


def main():
    binary = os.environ.get('INTEGR8SCODE_BIN', os.path.join(ROOT, 'build/ci/src/app/integr8scode'))
    prometheus_binary = shutil.which('prometheus')
    assert prometheus_binary, 'prometheus not found (apt-get install prometheus)'
    assert os.access(binary, os.X_OK), f'no server binary at {binary}'
    failures = []
    with tempfile.TemporaryDirectory(prefix='integr8scode-monitoring-') as tmp:
        port, prom_port = free_port(), free_port()
        log_path = os.path.join(tmp, 'server.log')
        env = {k: v for k, v in os.environ.items() if not k.startswith('INTEGR8SCODE_')}
        env.update({
            'INTEGR8SCODE_SERVER_LISTEN': f'127.0.0.1:{port}',
            'INTEGR8SCODE_SERVER_DATA_DIR': os.path.join(tmp, 'data'),
            'INTEGR8SCODE_CATALOG': os.path.join(ROOT, 'runtimes', 'catalog.toml'),
            'INTEGR8SCODE_AUTH_ARGON2': 'min',
            'INTEGR8SCODE_AUTH_LOCKOUT_FAILURES': '2',
            'INTEGR8SCODE_RATE_LIMITS_AUTH_PER_MINUTE': '10',
            'INTEGR8SCODE_RATE_LIMITS_ANONYMOUS_EXECUTE_PER_MINUTE': '1000',
            'INTEGR8SCODE_LOGGING_FORMAT': 'json',
        })
        rules_dir = os.path.join(tmp, 'rules')
        os.makedirs(rules_dir)
        for path in glob.glob(os.path.join(MONITORING, 'rules', '*.yml')):
            with open(path) as f:
                rules = yaml.safe_load(f)
            for group in rules['groups']:
                group['interval'] = '1s'  # evaluate at the test's pace
            with open(os.path.join(rules_dir, os.path.basename(path)), 'w') as f:
                yaml.safe_dump(rules, f)
        with open(os.path.join(MONITORING, 'prometheus.yml')) as f:
            config = yaml.safe_load(f)
        config['global'] = {'scrape_interval': '1s', 'evaluation_interval': '1s'}
        config['rule_files'] = [os.path.join(rules_dir, '*.yml')]
        config['scrape_configs'][0]['static_configs'][0]['targets'] = [f'127.0.0.1:{port}']
        with open(os.path.join(tmp, 'prometheus.yml'), 'w') as f:
            yaml.safe_dump(config, f)

        with open(log_path, 'wb') as log:
            server = subprocess.Popen([binary, 'serve'], env=env, stdout=log, stderr=log)
        prom = subprocess.Popen(
            [prometheus_binary, f'--config.file={tmp}/prometheus.yml',
             f'--storage.tsdb.path={tmp}/tsdb', f'--web.listen-address=127.0.0.1:{prom_port}',
             '--log.level=warn'],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, 'prometheus.log'), 'wb'))
        try:
            api = f'http://127.0.0.1:{port}/api/v1'
            wait_until('the server to be ready',
                       lambda: _ok(lambda: http('GET', f'{api}/health/ready', timeout=2)[0] == 200))
            p = Prometheus(f'http://127.0.0.1:{prom_port}')
            wait_until('Prometheus to scrape the server', lambda: _ok(
                lambda: has_samples(p.query('up{job="integr8scode"} == 1')[1])))

            # The log join: X-Request-Id accepted, echoed, and logged with the execution id.
            request_id = 'monitoring-test-0001'
            status, headers, answer = http('POST', f'{api}/execute?wait=true',
                                           {'script': 'print(1)', 'lang': 'python',
                                            'lang_version': '3.11'},
                                           headers={'X-Request-Id': request_id})
            assert status == 200, answer
            assert headers.get('X-Request-Id') == request_id, headers
            execution_id = json.loads(answer)['execution_id']

            # Two rounds with a scrape between, so that every counter increases inside the
            # rate windows (a series' first sample is not an increase).
            for first in (True, False):
                run_traffic(api, first)
                mark = time.time()
                wait_until('a scrape after the traffic', lambda: _ok(lambda: any(
                    float(item['value'][1]) > mark for item in
                    p.query('timestamp(up{job="integr8scode"})')[1])))
            # And one rule evaluation after that scrape.
            mark = time.time()
            wait_until('a rule evaluation after the traffic', lambda: all(
                _rule_evaluated_after(rule, mark)
                for group in p.api('/api/v1/rules')['groups'] for rule in group['rules']))

            failures += check_rules(p)
            failures += check_dashboards(p)
            failures += check_logs(log_path, request_id, execution_id)
            shots = os.environ.get('INTEGR8SCODE_MONITORING_SCREENSHOTS')
            if shots:
                subprocess.run(['node', os.path.join(os.path.dirname(__file__), 'screenshots.mjs'),
                                p.url, os.path.abspath(shots)], check=True)
        finally:
            for process in (prom, server):
                process.terminate()
            for process in (prom, server):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if failures:
            with open(log_path) as f:
                sys.stderr.write(''.join(f.readlines()[-20:]))
    for failure in failures:
        print('FAIL', failure)
    print(f'monitoring: {len(failures)} failure(s)')
    return 1 if failures else 0


def _ok(predicate):
    try:
        return predicate()
    except (OSError, ValueError, KeyError):
        return False


def _rule_evaluated_after(rule, mark):
    stamp = rule.get('lastEvaluation', '')
    if not stamp or stamp.startswith('0001'):
        return False
    # RFC 3339 in UTC with nanoseconds. The fraction counts: an evaluation earlier in the
    # same second as `mark` precedes the last scrape, and may see a counter's series with
    # one sample only (no rate yet) when the traffic's first sample came in the scrape
    # before (found on an idle machine, where a round of traffic fits in one scrape).
    seconds = calendar.timegm(time.strptime(stamp[:19], '%Y-%m-%dT%H:%M:%S'))
    fraction = re.match(r'\.(\d+)', stamp[19:])
    if fraction:
        seconds += float('0.' + fraction.group(1))
    return seconds > mark


def check_rules(p):
    failures = []
    checked = 0
    for group in p.api('/api/v1/rules')['groups']:
        for rule in group['rules']:
            name = rule['name']
            checked += 1
            if rule['health'] != 'ok':
                failures.append(f'rule {name}: health {rule["health"]}: {rule.get("lastError")}')
                continue
            ok, result = p.query(rule['query'])
            if not ok:
                failures.append(f'rule {name}: {result}')
                continue
            pending = pending_in(rule['query'])
            for metric in metric_names(rule['query']):
                if metric in PENDING or metric == 'up' or ':' in metric:
                    continue
                ok, series = p.query(f'count({{__name__=~"{metric}(_bucket|_sum|_count)?"}})')
                if not ok or not series:
                    failures.append(f'rule {name}: reads {metric}, which has no series')
            if rule['type'] == 'recording':
                ok, recorded = p.query(name)
                if pending:
                    print(f'rule {name}: expected empty ({", ".join(pending)}: '
                          f'{PENDING[pending[0]]})')
                elif not ok or not has_samples(recorded):
                    failures.append(f'recording rule {name}: no data')
    print(f'rules: {checked} evaluated')
    return failures


def check_dashboards(p):
    failures = []
    checked = 0
    for path in sorted(glob.glob(os.path.join(MONITORING, 'grafana', 'dashboards', '*.json'))):
        with open(path) as f:
            dashboard = json.load(f)
        for panel in dashboard['panels']:
            for target in panel.get('targets', []):
                expr = target['expr']
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                where = f'{dashboard["title"]} / {panel["title"]} / {target["refId"]}'
                checked += 1
                ok, result = p.query(expr)
                pending = pending_in(expr)
                if not ok:
                    failures.append(f'{where}: does not evaluate: {result}')
                elif pending and not has_samples(result):
                    print(f'{where}: expected empty ({", ".join(pending)}: {PENDING[pending[0]]})')
                elif pending:
                    print(f'{where}: has data: {", ".join(pending)} now exists; remove it from PENDING')
                elif not has_samples(result):
                    failures.append(f'{where}: no data: {expr}')
    print(f'dashboards: {checked} panel queries evaluated')
    return failures


def check_logs(log_path, request_id, execution_id):
    failures = []
    with open(log_path) as f:
        lines = [line for line in f.read().splitlines() if line]
    joined = False
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            failures.append(f'log line is not one JSON object: {line[:120]}')
            continue
        if entry.get('request_id') == request_id and entry.get('execution_id') == execution_id:
            joined = True
    if not joined:
        failures.append(f'no log line joins request {request_id} to execution {execution_id}')
    print(f'logs: {len(lines)} lines, all JSON: {not failures}')
    return failures


if __name__ == '__main__':
    sys.exit(main())
