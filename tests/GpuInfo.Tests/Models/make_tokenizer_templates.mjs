// Writes tokenizer_templates.json beside itself: the ids Hugging Face's tokenizers.js (the JavaScript
// port of the tokenizers library that transformers.js uses, an implementation independent of ours)
// gives for texts under this folder's byte-level BPE (vocab.json, merges.txt) with each of several
// post_processors, the special tokens Hugging Face's tokenizer(text) puts around a text. The C# test
// (TokenizerTemplateTests) builds the same tokenizer.json and must reproduce every id. Also the ids
// it gives for sentencepiece.json's texts under sp_bpe_tokenizer.json (make_sentencepiece.py), a
// SentencePiece-style BPE, which SentencePieceBpeTests compare with SentencePiece's and ours.
//
//     cd /tmp/tokjs && npm install @huggingface/tokenizers@0.2.0
//     NODE_PATH=/tmp/tokjs/node_modules node tests/GpuInfo.Tests/Models/make_tokenizer_templates.mjs
//
// Deterministic: rerunning it rewrites the same file.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { normalizerCases, normalizerTexts as sharedNormalizerTexts } from "./normalizer_cases.mjs";

const require = createRequire(import.meta.url);
const { Tokenizer } = require(require.resolve("@huggingface/tokenizers", { paths: [process.env.NODE_PATH ?? "."] }));
const here = dirname(fileURLToPath(import.meta.url));
const vocab = JSON.parse(readFileSync(join(here, "vocab.json"), "utf8"));
const merges = readFileSync(join(here, "merges.txt"), "utf8").split("\n").slice(1).filter((m) => m.length > 0);

// Added tokens beyond the vocabulary's 300, as a Llama 3 or RoBERTa tokenizer has them.
const bos = { id: 300, content: "<|begin_of_text|>", special: true };
const eos = { id: 301, content: "<|end_of_text|>", special: true };
const added = (...tokens) => tokens.map((t) => ({ ...t, single_word: false, lstrip: false, rstrip: false, normalized: false }));
const special = (t) => ({ [t.content]: { id: t.content, ids: [t.id], tokens: [t.content] } });
const template = (single, ...tokens) => ({
  type: "TemplateProcessing",
  single,
  pair: [],
  special_tokens: Object.assign({}, ...tokens.map(special)),
});
const token = (t) => ({ SpecialToken: { id: t.content, type_id: 0 } });
const A = { Sequence: { id: "A", type_id: 0 } };

const cases = [
  { name: "byte_level", added_tokens: [], post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true } },
  {
    name: "llama3",
    added_tokens: added(bos, eos),
    post_processor: {
      type: "Sequence",
      processors: [{ type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true }, template([token(bos), A], bos)],
    },
  },
  { name: "bos_and_eos", added_tokens: added(bos, eos), post_processor: template([token(bos), A, token(eos)], bos, eos) },
  { name: "two_before", added_tokens: added(bos, eos), post_processor: template([token(eos), token(bos), A], bos, eos) },
  { name: "roberta", added_tokens: added(bos, eos), post_processor: { type: "RobertaProcessing", sep: [eos.content, eos.id], cls: [bos.content, bos.id], trim_offsets: true, add_prefix_space: false } },
];

const texts = ["Hello world", "", "Perplexity is the exponential\nof that average.\n\n", readFileSync(join(here, "sample.txt"), "utf8").slice(0, 400)];

for (const c of cases) {
  const json = {
    version: "1.0",
    added_tokens: c.added_tokens,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: c.post_processor,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", vocab, merges },
  };
  const tokenizer = new Tokenizer(json, {});
  c.texts = texts.map((text) => ({ text, ids: tokenizer.encode(text).ids }));
}

// The SentencePiece-style BPE as converted (a Prepend normalizer), and with a Metaspace pre-tokenizer
// instead (as transformers writes it with legacy=False), on SentencePiece's texts and on texts with
// added tokens in them (each run of text between them gets its own dummy prefix, or only the first).
const spJson = JSON.parse(readFileSync(join(here, "sp_bpe_tokenizer.json"), "utf8"));
const metaspace = (scheme) => ({ ...spJson, normalizer: null, pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: scheme, split: false } });
const spTexts = [
  ...JSON.parse(readFileSync(join(here, "sentencepiece.json"), "utf8")).texts.map((t) => t.text),
  "before <s> after</s>then <unk>",
  " <s> a",
];
const sentencepiece_bpe = Object.fromEntries(
  [["prepend", spJson], ["metaspace_first", metaspace("first")], ["metaspace_always", metaspace("always")]].map(([name, json]) => {
    const tokenizer = new Tokenizer(json, {});
    return [name, { normalizer: json.normalizer, pre_tokenizer: json.pre_tokenizer, texts: spTexts.map((text) => ({ text, ids: tokenizer.encode(text).ids })) }];
  })
);

// Pre-tokenizers that split before the byte-level BPE: DeepSeek V3's three Splits (digits, CJK, then
// its word regex), GPT-4o's one inverted Split (its matches are the pieces), a Removed split, GPT-2's
// ByteLevel regex and Digits; on texts with characters beyond the BMP, which a regex must read as
// code points (an emoji is \p{S}, a Fraktur letter \p{L}).
const byteLevel = (useRegex) => ({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
const split = (regex, behavior, invert) => ({ type: "Split", pattern: { Regex: regex }, behavior, invert });
const preTokenizers = {
  deepseek_v3: { type: "Sequence", pretokenizers: [
    split("\\p{N}{1,3}", "Isolated", false),
    split("[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+", "Isolated", false),
    split("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+", "Isolated", false),
    byteLevel(false)] },
  gpt4o: { type: "Sequence", pretokenizers: [
    split("[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "Removed", true),
    byteLevel(false)] },
  removed_spaces: { type: "Sequence", pretokenizers: [split(" ", "Removed", false), byteLevel(false)] },
  gpt2: byteLevel(true),
  digits: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, byteLevel(true)] },
};
const preTexts = [
  "a𝔘b 😀abc x😀y 𝟏𝟐𝟑 🇫🇷🇫🇷! (𝔘𝔫) 'll 😀's 1😀2 中文です — 𝑥²+𝑦²  😀  \n 😀\ttabs",
  "Numbers 1234567 3.14159 12a34 don't I'LL  spaced   out\n\nlines",
  readFileSync(join(here, "sample.txt"), "utf8").slice(0, 300),
];
const pre_tokenizers = Object.entries(preTokenizers).map(([name, pre_tokenizer]) => {
  const tokenizer = new Tokenizer({
    version: "1.0", added_tokens: [], normalizer: null, pre_tokenizer, post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", vocab, merges },
  }, {});
  return { name, pre_tokenizer, texts: preTexts.map((text) => ({ text, ids: tokenizer.encode(text).ids })) };
});

// Normalizers on texts that they change (normalizer_cases.mjs). tokenizers.js normalizes with
// JavaScript's String.prototype.normalize (ICU in Node) and lowercases with toLowerCase.
const normalizerTexts = [...sharedNormalizerTexts, readFileSync(join(here, "sample.txt"), "utf8").slice(0, 200)];
const normalizers = Object.entries(normalizerCases).map(([name, normalizer]) => {
  const tokenizer = new Tokenizer({
    version: "1.0", added_tokens: [], normalizer, pre_tokenizer: byteLevel(true), post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", vocab, merges },
  }, {});
  return { name, normalizer, texts: normalizerTexts.map((text) => ({ text, ids: tokenizer.encode(text).ids })) };
});

writeFileSync(join(here, "tokenizer_templates.json"), JSON.stringify({ generator: "@huggingface/tokenizers 0.2.0 (tokenizers.js), make_tokenizer_templates.mjs", cases, sentencepiece_bpe, pre_tokenizers, normalizers }, null, 1) + "\n");
console.log(cases.map((c) => `${c.name}: ${c.texts.map((t) => t.ids.length).join(", ")} ids`).join("\n"));
