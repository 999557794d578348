# Mutates a Parquet file N times (seeds SEED..) and runs tokenize on each: exit 0 or 3, never another, never a hang.
# python3 fuzz.py FILE.parquet N SEED (from the repository root; mutants and failures in /tmp/pqfuzz).
import collections, os, random, subprocess, sys
src, n, seed0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs('/tmp/pqfuzz', exist_ok=True)
data = open(src, 'rb').read()
cli = os.environ.get('CLI', 'src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli')
codes = collections.Counter()
mutant = f'/tmp/pqfuzz/m{os.getpid()}.parquet'
for m in range(n):
    r = random.Random(seed0 + m)
    b = bytearray(data)
    for _ in range(r.randint(1, 8)):
        k = r.random()
        at = r.randrange(len(b))
        if k < 0.5: b[at] = r.randrange(256)
        elif k < 0.6: del b[at:at + r.randint(1, 64)]
        elif k < 0.7: b[at:at] = bytes(r.randrange(256) for _ in range(r.randint(1, 16)))
        elif k < 0.8: b = b[:at]
        else: b[at] ^= 1 << r.randrange(8)
        if not b: b = bytearray(b'\0')
    open(mutant, 'wb').write(b)
    try:
        p = subprocess.run([cli, 'tokenize', '--tokenizer', 'tests/GpuInfo.Tests/Models/vocab.json', '--text', mutant, '--json'], capture_output=True, text=True, timeout=60)
        codes[p.returncode] += 1
        if p.returncode not in (0, 3):
            print(f"seed {seed0+m}: exit {p.returncode}: {p.stderr.strip()[:300]}", flush=True)
            open(f'/tmp/pqfuzz/bad_{seed0+m}.parquet', 'wb').write(b)
    except subprocess.TimeoutExpired:
        codes['timeout'] += 1
        print(f"seed {seed0+m}: timeout", flush=True)
        open(f'/tmp/pqfuzz/bad_{seed0+m}.parquet', 'wb').write(b)
print(dict(codes), flush=True)
