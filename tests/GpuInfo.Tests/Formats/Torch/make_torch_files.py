"""Writes the torch.save fixtures of TorchFormatTests, with the expected values as .npy beside them.

Run with a Python that has torch and numpy (Debian's python3-torch, torch 1.13, wrote the committed
files): /usr/bin/python3 make_torch_files.py [folder]. Every file is small (under 4 KB).

Each X.pt that GpuInfo reads has X.npy (or X.NAME.npy for a dict's tensors) beside it, holding the
same values (bfloat16 widened to float32, which is exact); state_dict.pt is a torch.nn.Linear's
state_dict (an OrderedDict whose _metadata attribute the pickle sets with BUILD). The files GpuInfo
must refuse:
noncontiguous.pt (a transposed view), uint8.pt (a dtype GpuInfo does not compute on), legacy.pt
(the pre-1.6 format), module.pt (a whole torch.nn.Linear) and custom.pt (an instance of a class
defined here; custom4.pt the same pickled with protocol 4, STACK_GLOBAL): their pickles name
classes, which must be refused, never built. protocol4.pt is dict.pt's tensors pickled with
protocol 4 (torch.save(..., pickle_protocol=4)).

zip64.pt is dict.pt's records rewritten with every ZIP64 structure (sizes and offsets in the ZIP64
extra fields, the ZIP64 end record and locator), as torch writes files over 4 GB; torch2.pt is
f32.pt's records laid out as torch 2.x writes them (prefix 'archive', byteorder, .format_version,
.storage_alignment and .data/serialization_id records); v3.pt holds, beside a float32 tensor, a
uint16 tensor as torch >= 2.3 pickles it (_rebuild_tensor_v3 over an UntypedStorage with the dtype
torch.uint16); torch 1.13 cannot write these, so the pickles are built here from its own.
"""

import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

import numpy as np
import torch

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261207)
V = 37


def path(name):
    return os.path.join(out, name)


def save(name, obj, **kwargs):
    torch.save(obj, path(name + ".pt"), **kwargs)


def expect(name, tensor):
    t = tensor.detach()
    if t.dtype == torch.bfloat16:
        t = t.float()
    np.save(path(name + ".npy"), t.numpy())


class Custom:
    def __init__(self):
        self.logits = torch.randn(2, V)


def main():
    f32 = torch.randn(6, V)
    save("f32", f32)
    expect("f32", f32)

    bf16 = torch.randn(2, 3, V).bfloat16()
    save("bf16", bf16)
    expect("bf16", bf16)

    fp16 = torch.randn(2, 3, V).half()
    save("fp16", fp16)
    expect("fp16", fp16)

    logits = torch.randn(4, V)
    labels = torch.tensor([3, 0, 36, 17], dtype=torch.int64)
    save("dict", {"logits": logits, "labels": labels, "note": "not a tensor", "step": 7})
    expect("dict.logits", logits)
    expect("dict.labels", labels)
    save("protocol4", {"logits": logits, "labels": labels}, pickle_protocol=4)  # STACK_GLOBAL, MEMOIZE, FRAME

    nested = torch.randn(3, V)
    save("nested", {"out": {"logits": nested}, "ids": [torch.tensor([1, 2, 3], dtype=torch.int32)]})
    expect("nested.out.logits", nested)

    save("noncontiguous", {"logits": torch.randn(V, 6).t(), "ok": torch.randn(2, V)})

    shared = torch.randn(4, V)
    save("shared", {"a": shared[1:], "b": shared[:2]})
    expect("shared.a", shared[1:])
    expect("shared.b", shared[:2])

    i32 = torch.arange(-5, 5, dtype=torch.int32)
    save("int32", i32)
    expect("int32", i32)

    save("uint8", {"mask": torch.ones(2, V, dtype=torch.uint8), "logits": torch.randn(2, V)})

    layer = torch.nn.Linear(3, 2)
    save("state_dict", layer.state_dict())  # an OrderedDict with _metadata set by BUILD
    expect("state_dict.weight", layer.weight)
    expect("state_dict.bias", layer.bias)

    parameter = torch.nn.Parameter(torch.randn(2, V))
    save("parameter", parameter)
    expect("parameter", parameter)

    save("legacy", torch.randn(2, V), _use_new_zipfile_serialization=False)
    save("module", torch.nn.Linear(3, 2))
    save("custom", Custom())

    rewrite_zip64(path("dict.pt"), path("zip64.pt"))
    rewrite_torch2(path("f32.pt"), path("torch2.pt"))
    write_v3(path("v3.pt"))
    save("custom4", Custom(), pickle_protocol=4)

    for name in ["dict", "protocol4", "zip64", "torch2", "nested", "shared", "parameter", "state_dict"]:
        torch.load(path(name + ".pt"))  # torch itself reads what it is compared with


def records(source):
    """The (name without prefix, bytes) records of a torch.save zip, in order."""
    with zipfile.ZipFile(source) as z:
        return [(i.filename.split("/", 1)[1], z.read(i)) for i in z.infolist()]


def write_zip(target, entries, zip64):
    """A stored zip with 64-byte aligned data; with zip64, every size and offset goes through ZIP64 fields."""
    body = io.BytesIO()
    central = []
    for name, data in entries:
        encoded = name.encode()
        offset = body.tell()
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data)) if zip64 else b""
        start = offset + 30 + len(encoded) + len(extra) + 4
        pad = (-start) % 64
        extra += struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # torch's 'FB' padding field
        crc = zlib.crc32(data)
        small = 0xFFFFFFFF if zip64 else len(data)
        body.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, 0, 0, 0, crc, small, small, len(encoded), len(extra)))
        body.write(encoded + extra + data)
        central.append((encoded, crc, len(data), offset))
    directory_at = body.tell()
    for encoded, crc, size, offset in central:
        if zip64:
            extra = struct.pack("<HHQQQ", 1, 24, size, size, offset)
            body.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(encoded), len(extra), 0, 0, 0, 0, 0xFFFFFFFF))
        else:
            extra = b""
            body.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, crc, size, size, len(encoded), 0, 0, 0, 0, 0, offset))
        body.write(encoded + extra)
    directory_size = body.tell() - directory_at
    count = len(central)
    if zip64:
        record_at = body.tell()
        body.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, directory_size, directory_at))
        body.write(struct.pack("<IIQI", 0x07064B50, 0, record_at, 1))
        body.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
    else:
        body.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, directory_size, directory_at, 0))
    with open(target, "wb") as f:
        f.write(body.getvalue())


def rewrite_zip64(source, target):
    write_zip(target, [("zip64/" + n, d) for n, d in records(source)], zip64=True)


def rewrite_torch2(source, target):
    entries = dict(records(source))
    layout = [("data.pkl", entries["data.pkl"]), (".format_version", b"1"), (".storage_alignment", b"64"), ("byteorder", b"little")]
    layout += [(n, d) for n, d in entries.items() if n.startswith("data/")]
    layout += [("version", b"3\n"), (".data/serialization_id", b"0123456789012345678901234567890123456789")]
    write_zip(target, [("archive/" + n, d) for n, d in layout], zip64=False)


class Global:
    """Pickles as a GLOBAL naming module.name (pickle checks that the name leads back to this object)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __reduce__(self):
        return self.name

    def __call__(self, *args):
        raise TypeError(f"{self.module}.{self.name} is a stand-in")


def install(module, name):
    stub = Global(module, name)
    stub.__module__ = module
    setattr(sys.modules[module], name, stub)
    return stub


class TensorV3:
    def __init__(self, storage, size, dtype):
        self.storage, self.size, self.dtype = storage, size, dtype

    def __reduce__(self):
        import collections

        stride = tuple(int(np.prod(self.size[i + 1:])) for i in range(len(self.size)))
        return (REBUILD_V3, (self.storage, 0, self.size, stride, False, collections.OrderedDict(), self.dtype))


class Storage:
    def __init__(self, cls, key, numel):
        self.cls, self.key, self.numel = cls, key, numel


class V3Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        if isinstance(obj, torch.Tensor):
            raise TypeError("tensors are written by hand here")
        return None


REBUILD_V3 = None


def write_v3(target):
    """{'logits': float32 [2, V] (v2, FloatStorage), 'ids': uint16 [5] (v3, UntypedStorage + torch.uint16)}."""
    global REBUILD_V3
    import collections
    import torch._utils

    logits = torch.randn(2, V)
    expect("v3.logits", logits)
    rebuild_v3 = install("torch._utils", "_rebuild_tensor_v3") if not hasattr(torch._utils, "_rebuild_tensor_v3") else torch._utils._rebuild_tensor_v3
    REBUILD_V3 = rebuild_v3
    uint16 = install("torch", "uint16") if not hasattr(torch, "uint16") else torch.uint16
    untyped = torch.UntypedStorage if hasattr(torch, "UntypedStorage") else install("torch", "UntypedStorage")
    ids = np.arange(5, dtype=np.uint16)

    class TensorV2:
        def __reduce__(self):
            return (torch._utils._rebuild_tensor_v2, (Storage(torch.FloatStorage, "0", logits.numel()), 0, (2, V), (V, 1), False, collections.OrderedDict()))

    buffer = io.BytesIO()
    V3Pickler(buffer, protocol=2).dump({"logits": TensorV2(), "ids": TensorV3(Storage(untyped, "1", ids.nbytes), (5,), uint16)})
    write_zip(target, [("v3/data.pkl", buffer.getvalue()), ("v3/data/0", logits.numpy().tobytes()), ("v3/data/1", ids.tobytes()), ("v3/version", b"3\n")], zip64=False)


if __name__ == "__main__":
    main()
