#!/usr/bin/env python3
# The npm mirror this project is built against lacks some other-platform builds of optional native packages
# (biome, rollup, msgpackr-extract for darwin, win32, musl ...), so `npm install` records no lockfile entry for
# them, and `npm ci` then refuses the lockfile ("Missing: ... from lock file"). This adds the entries a full
# registry would have recorded: version, os, cpu, libc, optional. npm skips them on other platforms as usual.
# Run it after changing dependencies: python3 .ci/complete-lockfile.py package-lock.json
import json, re, sys
path = sys.argv[1]
lock = json.load(open(path))
pkgs = lock['packages']
def platform(name):
    n = name.split('/')[-1]
    os_ = cpu = libc = None
    for o in ['android','darwin','freebsd','openbsd','openharmony','win32','linux']:
        if f'-{o}-' in n or n.endswith(f'-{o}'):
            os_ = o
    m = re.search(r'-(arm64|x64|ia32|arm|loong64|ppc64|riscv64|s390x)(?:-|$)', n)
    if m: cpu = m.group(1)
    if 'musl' in n: libc = 'musl'
    elif os_ == 'linux' and ('gnu' in n or name.startswith('@biomejs') is False): libc = 'glibc' if 'gnu' in n else None
    return os_, cpu, libc
added = []
for key, meta in list(pkgs.items()):
    for dep, spec in (meta.get('optionalDependencies') or {}).items():
        # resolve like node: nested first, then root
        base = key + '/node_modules/' + dep if key else 'node_modules/' + dep
        if base in pkgs or ('node_modules/' + dep) in pkgs:
            continue
        os_, cpu, libc = platform(dep)
        entry = {'version': spec.lstrip('^~='), 'cpu': [cpu], 'license': meta.get('license', 'MIT'), 'optional': True, 'os': [os_]}
        if meta.get('dev'): entry['dev'] = True
        if libc: entry['libc'] = [libc]
        pkgs['node_modules/' + dep] = entry
        added.append((dep, entry['version'], os_, cpu, libc))
lock['packages'] = dict(sorted(pkgs.items(), key=lambda kv: (kv[0] != '', kv[0])))
json.dump(lock, open(path, 'w'), indent=2)
open(path, 'a').write('\n')
for a in added: print(*a)
