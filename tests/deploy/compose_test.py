#!/usr/bin/env python3
"""deploy/compose/compose.yaml, checked as far as this machine allows (no registry: the
third-party images cannot be pulled, so the stack is not started here):

- `docker-compose config` (Debian's 1.29, which validates against the Compose
  specification's JSON schema) accepts it with env.example, for both profiles; 1.29 predates
  the top-level `name:`, so that one key is removed from the copy it reads;
- without the passwords it refuses to start, naming the variable;
- every INTEGR8SCODE_* variable is a documented setting; every file it mounts or builds
  from exists, every image has a fixed tag, every service has
  a health check and a restart policy, and the sandbox services get the privileges
  docs/deploy.md names while the api service gets none;
- its Prometheus configuration passes `promtool check config`.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
COMPOSE_DIR = os.path.join(ROOT, 'deploy', 'compose')


def compose(args, env_file, profiles):
    with open(os.path.join(COMPOSE_DIR, 'compose.yaml')) as f:
        text = ''.join(line for line in f if line.rstrip() != 'name: integr8scode')
    with tempfile.NamedTemporaryFile('w', suffix='.yaml', delete=False) as copy:
        copy.write(text)
    env = {k: v for k, v in os.environ.items() if k != 'COMPOSE_PROFILES'}
    env['COMPOSE_PROFILES'] = profiles
    command = ['docker-compose', '--project-directory', COMPOSE_DIR, '-f', copy.name]
    if env_file:
        command += ['--env-file', env_file]
    try:
        return subprocess.run(command + args, env=env, capture_output=True, text=True)
    finally:
        os.unlink(copy.name)


def main():
    failures = []
    env_file = os.path.join(COMPOSE_DIR, 'env.example')
    services = {}
    for profiles, expected in (('all', {'integr8scode', 'postgres', 'prometheus', 'grafana'}),
                               ('split', {'api', 'worker', 'postgres', 'prometheus', 'grafana'})):
        result = compose(['config'], env_file, profiles)
        if result.returncode != 0:
            failures.append(f'profile {profiles}: docker-compose config: {result.stderr.strip()}')
            continue
        config = yaml.safe_load(result.stdout)
        active = {name for name, service in config['services'].items()
                  if not service.get('profiles') or profiles in service['profiles']}
        if active != expected:
            failures.append(f'profile {profiles}: runs {sorted(active)}, expected {sorted(expected)}')
        services.update(config['services'])

    empty = tempfile.NamedTemporaryFile('w', suffix='.env', delete=False)
    empty.close()
    result = compose(['config'], empty.name, 'all')
    os.unlink(empty.name)
    if result.returncode == 0 or 'POSTGRES_PASSWORD' not in result.stderr + result.stdout:
        failures.append('without passwords, compose does not refuse naming POSTGRES_PASSWORD')

    with open(os.path.join(ROOT, 'docs', 'operations.md')) as f:
        settings = {'INTEGR8SCODE_' + key.replace('.', '_').upper()
                    for key in re.findall(r'`([a-z_]+(?:\.[a-z_]+)+)`', f.read())}
    for name, service in services.items():
        for variable in service.get('environment', {}):
            if variable.startswith('INTEGR8SCODE_') and variable not in settings:
                failures.append(f'{name}: {variable} is not a setting of docs/operations.md')
        image = service.get('image', '')
        tag = image.rsplit('/', 1)[-1].partition(':')[2]
        if not tag or tag == 'latest':
            failures.append(f'{name}: image {image} has no fixed tag')
        if 'healthcheck' not in service:
            failures.append(f'{name}: no health check')
        if service.get('restart') != 'unless-stopped':
            failures.append(f'{name}: no restart policy')
        for volume in service.get('volumes', []):
            source = volume.split(':')[0] if isinstance(volume, str) else volume.get('source', '')
            if source.startswith('/') and not os.path.exists(source):
                failures.append(f'{name}: mounts {source}, which does not exist')
        build = service.get('build')
        if build and not os.path.exists(os.path.join(build['context'], build['dockerfile'])):
            failures.append(f'{name}: builds from a missing {build["dockerfile"]}')
    for name in ('integr8scode', 'worker'):
        service = services.get(name, {})
        if not service.get('privileged') or service.get('user') != '0:0':
            failures.append(f'{name}: lacks the sandbox privileges (root, privileged)')
    api = services.get('api', {})
    if api.get('privileged') or api.get('user') != '10001:10001' or not api.get('read_only') \
            or api.get('cap_drop') != ['ALL']:
        failures.append('api: not the unprivileged user with a read-only root and no capabilities')

    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(COMPOSE_DIR, 'prometheus.yml')) as f:
            text = f.read().replace('/etc/prometheus/rules/',
                                    os.path.join(ROOT, 'deploy', 'monitoring', 'rules') + '/')
        with open(os.path.join(tmp, 'prometheus.yml'), 'w') as f:
            f.write(text)
        result = subprocess.run(['promtool', 'check', 'config', os.path.join(tmp, 'prometheus.yml')],
                                capture_output=True, text=True)
        if result.returncode != 0:
            failures.append(f'promtool check config: {result.stdout}{result.stderr}')

    for failure in failures:
        print('FAIL', failure)
    print(f'compose: {len(services)} services checked, {len(failures)} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    if not shutil.which('docker-compose'):
        sys.exit('compose: docker-compose not found (apt-get install docker-compose)')
    sys.exit(main())
