// A .jsonl's "text" fields as a Parquet file, as Hugging Face datasets ship a corpus: a large_string
// "text" column and a string "id", in row groups of ROWS rows, under CODEC (SNAPPY, ZSTD, ...), written by
// Arrow's Rust writer (parquet-wasm 0.8.0; npm install parquet-wasm@0.8.0 apache-arrow@21.2.0).
// node to_parquet.mjs IN.jsonl OUT.parquet CODEC ROWS
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// Resolved from NODE_PATH, where run.sh says they are (an ES module's imports do not read it).
const require = createRequire(join(process.env.NODE_PATH ?? process.cwd(), "noop.js"));
const arrow = require("apache-arrow");
const pq = require("parquet-wasm");
const [src, dst, codec, rg] = process.argv.slice(2);
const texts = readFileSync(src, "utf8").split("\n").filter(l => l.trim()).map(l => JSON.parse(l).text);
const t = arrow.makeTable({ text: arrow.vectorFromArray(texts, new arrow.LargeUtf8()), id: arrow.vectorFromArray(texts.map((_, i) => `doc-${i}`), new arrow.Utf8()) });
const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression[codec]).setMaxRowGroupSize(Number(rg)).build();
writeFileSync(dst, pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(t, "stream")), props));
console.log(texts.length, "docs");
