// The ONNX protobuf schema, from the onnx-proto package (protobufjs static code).
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type TensorProto = onnxProto.onnx.TensorProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type INodeProto = onnxProto.onnx.INodeProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;
export type IGraphProto = onnxProto.onnx.IGraphProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
