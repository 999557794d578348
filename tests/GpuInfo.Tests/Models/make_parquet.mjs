// Writes parquet/ beside itself: Parquet files as Arrow's Rust writer makes them (arrow-rs through its
// WebAssembly build, parquet-wasm 0.8.0, from Arrow JS 21.2.0 tables), for ParquetTextTests:
//   - docs_<codec>.parquet: the same 13 documents in a "text" column beside an "id" (int32), a "url"
//     and a "meta" struct, as Hugging Face datasets' files hold them, under each codec a Parquet reader
//     meets (snappy, zstd, gzip, brotli, lz4_raw, none), in row groups of 4 rows and small data pages,
//     dictionary-encoded where the codec's file says so, data pages v1 and v2, "text" as string and as
//     large_string;
//   - docs.jsonl: the same documents as JSON lines ({"text": ...}), which a reader must read alike;
//   - null_text.parquet: a null "text" in its 6th row (second row group);
//   - int_text.parquet: a "text" column of int64; binary_text.parquet: one of bytes, not strings;
//   - required_text.parquet: the documents in a "text" column that cannot hold a null (REQUIRED: no
//     definition levels), as a writer with a non-nullable schema makes it;
//   - empty.parquet: the columns and no rows;
//   - bad_utf8.parquet: a "text" whose second row's bytes FF FE are not UTF-8 (written as "QQQQ", then
//     patched: uncompressed, without a dictionary, so that the bytes are there to patch).
// Run: cd /tmp/pqjs && npm install parquet-wasm@0.8.0 apache-arrow@21.2.0, then
//   NODE_PATH=/tmp/pqjs/node_modules node --experimental-default-type=module make_parquet.mjs
// (or copy this file into /tmp/pqjs and run it there with the output folder as its argument).
// Deterministic: rerunning it rewrites the same files.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(join(process.env.NODE_PATH ?? process.cwd(), "noop.js"));
const arrow = require("apache-arrow");
const pq = require("parquet-wasm");

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, "parquet");
mkdirSync(out, { recursive: true });

const sample = readFileSync(join(here, "sample.txt"), "utf8");
const documents = [
  sample,
  "One line.",
  "  leading and trailing white space  \n",
  "Lines\nend\r\nin two ways\r\n",
  "naïve café, ½ of it, 🙂 and 👩‍👩‍👧 (a joined emoji)",
  "日本語の文章。中文句子。한국어 문장.",
  "e\u0301 (e and a combining acute) and é (one code point)",
  sample.repeat(40), // about 15 KB: over several data pages
  "\ttab\tseparated\tvalues\n",
  "x",
  "Ελληνικά και русский текст.",
  "a" + " b".repeat(500),
  "The last document.",
];

const structType = new arrow.Struct([new arrow.Field("source", new arrow.Utf8()), new arrow.Field("n", new arrow.Int32())]);

function table(textType, texts = documents, textColumn = null) {
  return arrow.makeTable({
    id: arrow.vectorFromArray(texts.map((_, i) => i), new arrow.Int32()),
    text: textColumn ?? arrow.vectorFromArray(texts, textType),
    url: arrow.vectorFromArray(texts.map((_, i) => `https://example.org/${i}`), new arrow.Utf8()),
    meta: arrow.vectorFromArray(texts.map((_, i) => ({ source: i % 2 ? "odd" : "even", n: i })), structType),
  });
}

function write(name, t, configure) {
  const builder = new pq.WriterPropertiesBuilder().setMaxRowGroupSize(4).setDataPageSizeLimit(1024).setCreatedBy("make_parquet.mjs (parquet-wasm 0.8.0)");
  const bytes = pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(t, "stream")), configure(builder).build());
  writeFileSync(join(out, name), bytes);
}

const C = pq.Compression;
write("docs_snappy.parquet", table(new arrow.Utf8()), b => b.setCompression(C.SNAPPY).setDictionaryEnabled(true));
write("docs_zstd.parquet", table(new arrow.LargeUtf8()), b => b.setCompression(C.ZSTD).setDictionaryEnabled(false).setWriterVersion(pq.WriterVersion.V2));
write("docs_gzip.parquet", table(new arrow.Utf8()), b => b.setCompression(C.GZIP).setDictionaryEnabled(false));
write("docs_brotli.parquet", table(new arrow.LargeUtf8()), b => b.setCompression(C.BROTLI).setDictionaryEnabled(true).setWriterVersion(pq.WriterVersion.V2));
write("docs_lz4raw.parquet", table(new arrow.Utf8()), b => b.setCompression(C.LZ4_RAW).setDictionaryEnabled(true));
write("docs_none.parquet", table(new arrow.Utf8()), b => b.setCompression(C.UNCOMPRESSED).setDictionaryEnabled(false));
writeFileSync(join(out, "docs.jsonl"), documents.map(text => JSON.stringify({ text }) + "\n").join(""));

const withNull = documents.slice(0, 8).map((d, i) => (i === 5 ? null : d));
write("null_text.parquet", table(new arrow.Utf8(), withNull), b => b.setCompression(C.SNAPPY));
const few = documents.slice(0, 3);
write("int_text.parquet", table(null, few, arrow.vectorFromArray(few.map((_, i) => BigInt(i)), new arrow.Int64())), b => b.setCompression(C.SNAPPY));
write("binary_text.parquet", table(null, few, arrow.vectorFromArray(few.map(d => new TextEncoder().encode(d)), new arrow.Binary())), b => b.setCompression(C.SNAPPY));
const required = new arrow.Schema([new arrow.Field("text", new arrow.Utf8(), false)]);
const requiredData = arrow.makeData({ type: new arrow.Struct(required.fields), length: documents.length, nullCount: 0, children: [arrow.vectorFromArray(documents, new arrow.Utf8()).data[0]] });
write("required_text.parquet", new arrow.Table(required, new arrow.RecordBatch(required, requiredData)), b => b.setCompression(C.ZSTD));
write("empty.parquet", table(new arrow.Utf8(), []), b => b.setCompression(C.SNAPPY));

const good = pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(arrow.makeTable({ text: arrow.vectorFromArray(["fine", "QQQQ", "also fine"], new arrow.Utf8()) }), "stream")),
  new pq.WriterPropertiesBuilder().setCompression(C.UNCOMPRESSED).setDictionaryEnabled(false).setStatisticsEnabled(pq.EnabledStatistics.None).setCreatedBy("make_parquet.mjs (parquet-wasm 0.8.0)").build());
let patched = 0;
for (let i = 0; i + 4 <= good.length; i++) {
  if (good[i] === 0x51 && good[i + 1] === 0x51 && good[i + 2] === 0x51 && good[i + 3] === 0x51) {
    good[i] = 0xff;
    good[i + 1] = 0xfe;
    patched++;
  }
}
if (patched !== 1) throw new Error(`expected the value once in the file, found it ${patched} times`);
writeFileSync(join(out, "bad_utf8.parquet"), good);
console.log(`wrote ${out}`);
