// Encodes a text with Hugging Face's tokenizers, the Rust library (through @anush008/tokenizers, its
// Node binding of tokenizers 0.22.2, where installed) and tokenizers.js (its JavaScript port), and
// compares each one's ids with a .npy that `gpuinfo tokenize --out` wrote; prints one JSON line.
// The Rust library is the reference where both are there: tokenizers.js differs from it in places
// (its Digits splits only ASCII digits, Rust's every char::is_numeric). Used by check.sh.
//     node compare.mjs TOKENIZER_JSON TOKENIZER_CONFIG_JSON TEXT OURS.npy
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const paths = (process.env.NODE_PATH ?? ".").split(":");
const load = (name) => {
  try {
    return require(require.resolve(name, { paths }));
  } catch (e) {
    console.error(`compare.mjs: ${name} not loaded (${e.message.split("\n")[0]})`);
    return null;
  }
};
const js = load("@huggingface/tokenizers");
const rust = load("@anush008/tokenizers");
const [, , tokenizerPath, configPath, textPath, oursPath] = process.argv;

function readInt32Npy(path) {
  const buffer = readFileSync(path);
  const headerLength = buffer.readUInt16LE(8);
  const header = buffer.toString("latin1", 10, 10 + headerLength);
  if (!header.includes("'<i4'")) throw new Error(`${path}: not int32 (${header.trim()})`);
  const start = 10 + headerLength;
  return Array.from(new Int32Array(buffer.buffer.slice(buffer.byteOffset + start, buffer.byteOffset + buffer.length)));
}

async function timed(encode) {
  const started = process.hrtime.bigint();
  const ids = await encode();
  return { ids, seconds: Math.round(Number(process.hrtime.bigint() - started) / 1e6) / 1000 };
}

function compare(theirs, ours) {
  let first = -1;
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    if (ours[i] !== theirs[i]) { first = i; break; }
  }
  return { ids: theirs.length, equal: first < 0, first_difference: first < 0 ? null : { at: first, theirs: theirs.slice(first, first + 6), gpuinfo: ours.slice(first, first + 6) } };
}

const text = readFileSync(textPath, "utf8");
const ours = readInt32Npy(oursPath);
const report = { ids_gpuinfo: ours.length };
if (rust) {
  // Without the file's truncation and padding (Pegasus's truncates at 192 ids), as gpuinfo encodes whole texts.
  const whole = JSON.parse(readFileSync(tokenizerPath, "utf8"));
  whole.truncation = null;
  whole.padding = null;
  const wholePath = join(mkdtempSync(join(tmpdir(), "compare-")), "tokenizer.json");
  writeFileSync(wholePath, JSON.stringify(whole));
  const tokenizer = rust.Tokenizer.fromFile(wholePath);
  const { ids, seconds } = await timed(async () => (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds());
  report.rust = { ...compare(ids, ours), seconds };
}
if (js) {
  const config = configPath && configPath !== "-" ? JSON.parse(readFileSync(configPath, "utf8")) : {};
  try {
    // Inside the try: the port refuses kinds it lacks (CharDelimiterSplit) when it builds the tokenizer.
    const tokenizer = new js.Tokenizer(JSON.parse(readFileSync(tokenizerPath, "utf8")), config);
    const { ids, seconds } = await timed(async () => tokenizer.encode(text).ids);
    report.tokenizers_js = { ...compare(ids, ours), seconds };
  } catch (e) {
    // The port's Unigram passes a whole pre-tokenized run's pieces as call arguments (to_return.push(...tokenized)),
    // which overflowed the stack under XLM-R's Metaspace alone on 2.4 MB: reported; the Rust reference still decides.
    report.tokenizers_js = { failed: `${e.name}: ${e.message.split("\n")[0]}` };
  }
}
if (!rust && !js) throw new Error("neither @anush008/tokenizers nor @huggingface/tokenizers is installed");
report.equal = (report.rust ?? report.tokenizers_js).equal === true;
console.log(JSON.stringify(report));
