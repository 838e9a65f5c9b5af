"""
Reference vectors for the bundled models, made by Python fastembed (the
embedding library the original InferMesh server is built on) from the very
files the service runs: the ONNX export and tokenizer.json in the model cache.

Run through tests/vectors/make-model-reference.ts, which creates the
virtualenv (tests/vectors/.venv, model-reference-requirements.txt) and hands
this script a job file naming each model's files and pinned digests:

    npx tsx tests/vectors/make-model-reference.ts

fastembed normally downloads its models from the Hugging Face hub. Here it is
given a local directory instead (`specific_model_path`) holding links to the
cached files and the three small config files its loader reads, written below
with what the reference sets for each model: sentence-transformers'
max_seq_length (256) for all-MiniLM-L6-v2, 512 for bge-small-en-v1.5. fastembed
then truncates at that length keeping [SEP], pads a batch to its longest input,
and pools with the model's registered class: PooledNormalizedEmbedding (mean
over the attention mask, then L2) for MiniLM, OnnxTextEmbedding (the [CLS]
state, then L2) for bge.

With --sentence-transformers (the runner's flag of the same name) it also
runs sentence-transformers on PyTorch, the reference the MiniLM model was
published with: the weights are read back out of the same ONNX file (a
BertModel's state dict: named initializers as they are, each anonymous MatMul
weight transposed and named after the bias added to its output), and the
model is assembled as the hub's sentence-transformers configurations do
(Transformer with max_seq_length 256 / 512, Pooling mean / cls, Normalize).
Its vectors are recorded beside fastembed's as `st_vector`.
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile
from importlib.metadata import version

import numpy as np
from fastembed import TextEmbedding
from tokenizers import Tokenizer

# fastembed's own published vectors for "hello world" (the first five
# components), from its test suite (tests/test_text_onnx_embeddings.py,
# CANONICAL_VECTOR_VALUES). It made them from the hub's ONNX exports
# (bge: Qdrant/bge-small-en-v1.5-onnx-Q's model_optimized.onnx), not the
# Maven jars' files, so they agree only to about 1e-4.
PUBLISHED_HELLO_WORLD = {
    "BAAI/bge-small-en-v1.5": [0.01522374, -0.02271799, 0.00860278, -0.07424029, 0.00386434],
    "sentence-transformers/all-MiniLM-L6-v2": [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362],
}

# The fastembed class that must handle each pooling: the check that the
# reference pools as the registry says the model does.
FASTEMBED_CLASS = {"mean": "PooledNormalizedEmbedding", "cls": "OnnxTextEmbedding"}

PROSE = (
    "Embedline reads texts from Kafka, embeds them with a small sentence encoder and writes "
    "the vectors to Kafka, to Parquet files and to a sharded vector index that the console "
    "searches. Every record carries its document id, the topic it came from and the time "
    "Kafka stamped it, so a vector can always be traced back to the message that produced it. "
    "When a record cannot be embedded, because its text is empty, far too large, or not text "
    "at all, it goes to a dead-letter topic with the reason and the original bytes, and the "
    "partition moves on. Operators watch throughput, latency and the size of the dead-letter "
    "queue on the console, and replay records once the cause is fixed. "
)

# A second paragraph, so the long inputs do not all begin alike.
PROSE2 = (
    "The embedding service batches requests by tokens rather than by count: inputs are sorted by "
    "length, and a batch closes when its padded size would pass the limit, so one long document "
    "does not make a batch of short messages cost as much as itself. Inputs longer than the "
    "model's window are cut at the limit, the final separator token is kept, and the response "
    "says which inputs were cut and how many tokens they had. Two models ship with the service, "
    "both small enough to run on two cores beside the broker and the workers. "
)

CHINESE = "机器学习是人工智能的一个分支，它让计算机从数据中学习规律，而不需要明确的编程。"


def texts() -> list[dict]:
    """The inputs: (name, text). Names are stable ids for the test's messages."""
    t = [
        ("hello-world", "hello world"),
        ("sentence", "The quick brown fox jumps over the lazy dog."),
        ("paraphrase-a", "A man is playing a guitar."),
        ("paraphrase-b", "Someone plays an acoustic guitar on stage."),
        ("question", "How do I reset my password if I no longer have access to my email?"),
        ("one-letter", "a"),
        ("ok", "ok"),
        ("hi", "hi!"),
        ("shouting", "SHOUTING IN ALL CAPS!!!"),
        ("punctuation-only", "?!... ;:-- () [] {} «» … ¿¡ —"),
        ("numbers", "3.14159 2,718 -42 1e10 0x1F 100% 1/3 ½ ²"),
        ("accents", "Crème brûlée, façade, naïve café, Ångström, Øresund, Straße, São Paulo"),
        ("chinese", CHINESE),
        ("japanese", "東京は日本の首都です。カタカナとひらがなも使います。"),
        ("korean", "한국어 문장입니다. 임베딩 모델을 시험합니다."),
        ("arabic", "مرحبا بالعالم، هذا نص عربي قصير للاختبار."),
        ("cyrillic", "Привет, мир! Это короткий русский текст."),
        ("greek", "Γειά σου Κόσμε, αυτό είναι ελληνικό κείμενο."),
        ("hindi", "नमस्ते दुनिया, यह एक परीक्षण वाक्य है।"),
        ("emoji", "I love pizza 🍕😀🎉"),
        ("emoji-zwj", "family 👨‍👩‍👧‍👦, technologist 👩🏽‍💻, rainbow flag 🏳️‍🌈"),
        ("emoji-flags", "🇫🇷 🇯🇵 🇺🇸 🇧🇷"),
        ("emoji-only", "🔥🔥🔥"),
        ("mixed-scripts", "Kafka → Parquet: 東京 Москва café القاهرة 🚀 v2.0"),
        ("whitespace", "  leading and trailing  \t tabs\n\nnew lines\r\n and\u00a0nbsp\u200bzero-width\u3000ideographic space  "),
        ("whitespace-only", " \t\n "),
        ("control-chars", "tab\tbell\u0007null\u0000escape\u001b[0m end"),
        ("code", "def square(x):\n    return x ** 2  # TODO: handle None\n\nprint(square(12))"),
        ("url", "https://example.com/path/to/page?q=embedding&lang=en#section-2"),
        ("json", '{"doc_id": "42", "text": "hello", "tags": ["a", "b"], "score": 0.97}'),
        ("markdown", "**Bold** _italic_ `inline code` [a link](http://x.y/z) > quote"),
        ("long-word", "a" * 150),  # one word longer than WordPiece's 100-character limit: [UNK]
        ("paragraph", PROSE),
        ("chinese-long", CHINESE * 12),  # ~480 tokens: beyond MiniLM's 256, within bge's 512
        ("prose-300", PROSE * 2),  # ~320 tokens: beyond MiniLM's 256 only
        ("prose-600", PROSE2 * 5),  # ~600 tokens: beyond both limits
        ("prose-2000", (PROSE + PROSE2) * 7),  # ~2000 tokens: far beyond both
    ]
    # At each model's limit and one past it: "word" is one token in both
    # vocabularies, plus [CLS] and [SEP].
    for total in (256, 257, 512, 513):
        t.append((f"tokens-{total}", " ".join(["word"] * (total - 2))))
    return [{"name": n, "text": s} for n, s in t]


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sig7(x: float) -> float:
    """Rounded to 7 significant digits: float32 holds 7.2, so nothing is lost that the model had."""
    return float(f"{x:.7g}")


def model_dir(model: dict, model_file: str, tmp: str) -> str:
    """A directory fastembed loads as a model: links to the cached files and minimal configs."""
    d = os.path.join(tmp, model["shortName"])
    os.makedirs(d)
    os.symlink(model["onnx"]["path"], os.path.join(d, model_file))
    os.symlink(model["tokenizer"]["path"], os.path.join(d, "tokenizer.json"))
    special = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"model_type": "bert", "hidden_size": model["dim"], "max_position_embeddings": 512, "pad_token_id": 0}, f)
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": model["maxTokens"], "do_lower_case": True, "tokenizer_class": "BertTokenizer", **special}, f)
    with open(os.path.join(d, "special_tokens_map.json"), "w") as f:
        json.dump(special, f)
    return d


def bert_state_dict(onnx_path: str) -> dict:
    """The torch BertModel weights inside an ONNX export made by torch.onnx.export."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state = {k: v for k, v in inits.items() if not k.startswith("onnx::") and k != "embeddings.position_ids"}
    for node in graph.node:
        weight = next((i for i in node.input if i.startswith("onnx::") and i in inits), None) if node.op_type == "MatMul" else None
        if weight is None:
            continue
        biases = [i for c in consumers.get(node.output[0], []) if c.op_type == "Add" for i in c.input if i.endswith(".bias") and i in inits]
        if len(biases) != 1:
            sys.exit(f"{onnx_path}: cannot tell which Linear the MatMul {node.name} belongs to ({biases})")
        # torch's Linear stores [out, in]; the export multiplies by its transpose.
        state[biases[0][: -len(".bias")] + ".weight"] = np.ascontiguousarray(inits[weight].T)
    return state


def sentence_transformer(model: dict, tmp: str):
    """sentence-transformers on PyTorch, with the ONNX file's weights, configured as on the hub."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel

    d = os.path.join(tmp, model["shortName"] + "-st")
    state = bert_state_dict(model["onnx"]["path"])
    layers = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("encoder.layer."))
    # Both are BERT-small shapes: 384 hidden, 12 heads, 1536 intermediate (MiniLM 6 layers, bge 12).
    config = BertConfig(vocab_size=state["embeddings.word_embeddings.weight"].shape[0], hidden_size=model["dim"], num_hidden_layers=layers,
                        num_attention_heads=12, intermediate_size=state["encoder.layer.0.intermediate.dense.weight"].shape[0],
                        max_position_embeddings=state["embeddings.position_embeddings.weight"].shape[0])
    bert = BertModel(config, add_pooling_layer=False)
    bert.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()}, strict=True)
    bert.save_pretrained(d)
    os.symlink(model["tokenizer"]["path"], os.path.join(d, "tokenizer.json"))
    special = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}
    files = {
        "tokenizer_config.json": {"model_max_length": 512, "do_lower_case": True, "tokenizer_class": "BertTokenizer", **special},
        "special_tokens_map.json": special,
        "sentence_bert_config.json": {"max_seq_length": model["maxTokens"], "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": model["dim"], "pooling_mode_cls_token": model["pooling"] == "cls",
                                  "pooling_mode_mean_tokens": model["pooling"] == "mean", "pooling_mode_max_tokens": False,
                                  "pooling_mode_mean_sqrt_len_tokens": False},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    }
    for name, content in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
        with open(os.path.join(d, name), "w") as f:
            json.dump(content, f)
    torch.set_num_threads(1)
    return SentenceTransformer(d, device="cpu")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def generate(model: dict, inputs: list[dict], tmp: str, with_st: bool) -> dict:
    for f in ("onnx", "tokenizer"):
        digest = sha256(model[f]["path"])
        if digest != model[f]["sha256"]:
            sys.exit(f"{model[f]['path']}: sha256 {digest}, expected {model[f]['sha256']} (pinned in lib/embedding/registry.ts)")

    description = next(m for m in TextEmbedding._list_supported_models() if m.model == model["id"])
    emb = TextEmbedding(
        model_name=model["id"],
        specific_model_path=model_dir(model, description.model_file, tmp),
        local_files_only=True,
        threads=1,
        cuda=False,
    )
    impl = emb.model
    want_class = FASTEMBED_CLASS[model["pooling"]]
    if type(impl).__name__ != want_class:
        sys.exit(f"fastembed runs {model['id']} with {type(impl).__name__}, expected {want_class} for {model['pooling']} pooling")

    whole = Tokenizer.from_file(model["tokenizer"]["path"])
    whole.no_truncation()
    whole.no_padding()

    texts_ = [i["text"] for i in inputs]
    # Each text alone (a batch of one: no padding), the reference vectors.
    alone = [next(iter(emb.embed([t], batch_size=1))) for t in texts_]
    # And all in one batch, padded to the longest: the reference's own batch jitter.
    together = list(emb.embed(texts_, batch_size=len(texts_)))
    batch_jitter = max(1 - cosine(a, b) for a, b in zip(alone, together))

    rows = []
    for inp, vec in zip(inputs, alone):
        tokens = len(whole.encode(inp["text"]).ids)
        kept = len(impl.tokenizer.encode(inp["text"]).ids)
        rows.append({
            "name": inp["name"],
            "text": inp["text"],
            "tokens": tokens,
            "kept_tokens": kept,
            "vector": [sig7(x) for x in vec.tolist()],
        })
        norm = float(np.linalg.norm(vec.astype(np.float64)))
        if abs(norm - 1) > 1e-5:
            sys.exit(f"{model['id']}: fastembed's vector for {inp['name']} has norm {norm}")
        if kept != min(tokens, model["maxTokens"]):
            sys.exit(f"{model['id']}: {inp['name']} kept {kept} of {tokens} tokens, limit {model['maxTokens']}")

    st_check = None
    if with_st:
        st = sentence_transformer(model, tmp)
        st_worst = 0.0
        for row, vec in zip(rows, alone):
            st_vec = st.encode([row["text"]], convert_to_numpy=True)[0]
            st_kept = int(st.tokenize([row["text"]])["input_ids"].shape[1])
            if st_kept != row["kept_tokens"]:
                sys.exit(f"{model['id']}: sentence-transformers kept {st_kept} tokens of {row['name']}, fastembed {row['kept_tokens']}")
            st_worst = max(st_worst, 1 - cosine(vec, st_vec))
            row["st_vector"] = [sig7(x) for x in st_vec.tolist()]
        # Two implementations of one model agree to float32 noise; more means the
        # rebuilt model is not the exported one (a wrong head count, a misplaced weight).
        if st_worst > 1e-6:
            sys.exit(f"{model['id']}: sentence-transformers and fastembed differ (max 1 - cos {st_worst}): the weights were not rebuilt faithfully")
        st_check = {
            "name": "sentence-transformers",
            "version": version("sentence-transformers"),
            "torch": version("torch"),
            "transformers": version("transformers"),
            "how": "SentenceTransformer(Transformer(BertModel with the ONNX file's weights, max_seq_length=maxTokens), Pooling, Normalize) on CPU; each text encoded alone",
            "max_1_minus_cos_vs_fastembed": sig7(st_worst),
        }

    hello = next(r for r in rows if r["name"] == "hello-world")["vector"]
    published = PUBLISHED_HELLO_WORLD[model["id"]]
    published_diff = max(abs(a - b) for a, b in zip(hello, published))

    return {
        "id": model["id"],
        "shortName": model["shortName"],
        "pooling": model["pooling"],
        "maxTokens": model["maxTokens"],
        "artifact": model["artifact"],
        "files": {f: {"name": os.path.basename(model[f]["path"]), "sha256": model[f]["sha256"]} for f in ("onnx", "tokenizer")},
        "generator": {
            "name": "fastembed",
            "version": version("fastembed"),
            "onnxruntime": version("onnxruntime"),
            "tokenizers": version("tokenizers"),
            "class": type(impl).__name__,
            "how": "TextEmbedding(model_name=id, specific_model_path=<dir linking the cached model.onnx and tokenizer.json>, threads=1); each text embedded alone",
        },
        "checks": {
            "published_hello_world": {"source": "fastembed tests/test_text_onnx_embeddings.py CANONICAL_VECTOR_VALUES (first 5 components)", "values": published, "max_abs_diff": sig7(published_diff)},
            "fastembed_alone_vs_one_batch_max_1_minus_cos": sig7(batch_jitter),
            **({"sentence_transformers": st_check} if st_check else {}),
        },
        "texts": rows,
    }


def dumps(out: dict) -> str:
    """Indented JSON with each vector on one line: reviewable diffs, a small file."""
    vectors: list[str] = []

    def stash(o):
        if isinstance(o, dict):
            return {k: stash(v) for k, v in o.items()}
        if isinstance(o, list) and len(o) > 16 and all(isinstance(x, float) for x in o):
            vectors.append(json.dumps(o, separators=(",", ":")))
            return f"@@vector{len(vectors) - 1}@@"
        if isinstance(o, list):
            return [stash(v) for v in o]
        return o

    text = json.dumps(stash(out), ensure_ascii=False, indent=1)
    for i, v in enumerate(vectors):
        text = text.replace(f'"@@vector{i}@@"', v, 1)
    return text


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--job", required=True, help="JSON written by make-model-reference.ts: the models and their cached files")
    p.add_argument("--out", required=True)
    p.add_argument("--sentence-transformers", action="store_true", help="also record sentence-transformers' vectors (st_vector)")
    args = p.parse_args()
    with open(args.job) as f:
        job = json.load(f)
    inputs = texts()
    with tempfile.TemporaryDirectory() as tmp:
        models = [generate(m, inputs, tmp, args.sentence_transformers) for m in job["models"]]
    out = {
        "about": "Reference vectors for the bundled models from the model cache's files: `vector` by Python fastembed, `st_vector` (when present) by sentence-transformers on PyTorch with the same weights; regenerate with `npx tsx tests/vectors/make-model-reference.ts --sentence-transformers` (without the flag: fastembed only). Vectors rounded to 7 significant digits.",
        "models": models,
    }
    with open(args.out, "w") as f:
        f.write(dumps(out) + "\n")
    for m in models:
        c = m["checks"]
        print(f"{m['shortName']}: {len(m['texts'])} texts; published hello-world max |diff| {c['published_hello_world']['max_abs_diff']}; "
              f"fastembed alone vs batched max 1-cos {c['fastembed_alone_vs_one_batch_max_1_minus_cos']}"
              + (f"; sentence-transformers vs fastembed max 1-cos {c['sentence_transformers']['max_1_minus_cos_vs_fastembed']}" if "sentence_transformers" in c else ""))


if __name__ == "__main__":
    main()
