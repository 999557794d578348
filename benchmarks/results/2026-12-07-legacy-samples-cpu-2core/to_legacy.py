import json, sys
src, dst = sys.argv[1], sys.argv[2]
records = []
with open(src, encoding="utf-8") as f:
    for line in f:
        d = json.loads(line)
        args = d["arguments"]
        d["arguments"] = [[v for _, v in sorted(a.items())] for _, a in sorted(args.items(), key=lambda kv: int(kv[0].split("_")[-1]))]
        d["resps"] = [[[float(r[0]), r[1] == "True"] for r in rs] for rs in d["resps"]]
        d["filtered_resps"] = [[float(r[0]), r[1] == "True"] for r in d["filtered_resps"]]
        for k in ("filter", "metrics", "doc_hash", "prompt_hash", "target_hash"):
            d.pop(k, None)
        records.append(d)
with open(dst, "w", encoding="utf-8") as f:
    f.write(json.dumps(records, indent=2, ensure_ascii=False))
