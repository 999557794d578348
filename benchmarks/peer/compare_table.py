#!/usr/bin/env python3
"""Markdown table of a `gpuinfo bench --json` result beside a torch_peer.py result on the same data.

    python3 compare_table.py bench.json torch.json
"""
import json
import sys

ours = json.load(open(sys.argv[1]))
peer = {o["op"]: o for o in json.load(open(sys.argv[2]))["ops"]}
print(f"{ours['rows']} x {ours['vocab']} {ours['dtype']}: read bandwidth {ours['memory_read_gbps']:.1f} GB/s ({ours['device']})")
print()
print("| op | gpuinfo ms | GB/s | of read BW | PyTorch ms | speedup | max rel. error |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for o in ours["ops"]:
    p = peer.get(o["op"])
    speed = f"{p['ms'] / o['ms']:.1f}x" if p else "-"
    pms = f"{p['ms']:.1f}" if p else "-"
    print(f"| {o['op']} | {o['ms']:.1f} | {o['gbps']:.1f} | {o['fraction_of_read_bw']:.0%} | {pms} | {speed} | {o['max_relative_error']:.1e} |")
