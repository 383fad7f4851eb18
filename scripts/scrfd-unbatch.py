#!/usr/bin/env python3
"""Writes a copy of a batched SCRFD export ([1, N, k] outputs) whose outputs are unbatched ([N, k]),
the layout of InsightFace's own det_10g / buffalo files, so tests can decode both layouts on one model.
Test use only: the SCRFD weights are research-licence. Needs Debian's python3-onnx.

Usage: scrfd-unbatch.py IN.onnx OUT.onnx
"""
import sys

import onnx
from onnx import helper


def unbatch(model):
    graph = model.graph
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset >= 13:  # Squeeze takes its axes as an input from opset 13 on
        graph.initializer.append(helper.make_tensor("unbatch_axes", onnx.TensorProto.INT64, [1], [0]))
    outputs = list(graph.output)
    del graph.output[:]
    for out in outputs:
        inner = out.name + "_batched"
        for node in graph.node:
            node.output[:] = [inner if o == out.name else o for o in node.output]
            node.input[:] = [inner if i == out.name else i for i in node.input]
        if opset >= 13:
            graph.node.append(helper.make_node("Squeeze", [inner, "unbatch_axes"], [out.name]))
        else:
            graph.node.append(helper.make_node("Squeeze", [inner], [out.name], axes=[0]))
        dims = out.type.tensor_type.shape.dim
        if len(dims) != 3:
            raise SystemExit(f"output {out.name} has rank {len(dims)}, expected 3 ([1, N, k])")
        shape = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims[1:]]
        graph.output.append(helper.make_tensor_value_info(out.name, out.type.tensor_type.elem_type, shape))
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    onnx.save(unbatch(onnx.load(sys.argv[1])), sys.argv[2])
