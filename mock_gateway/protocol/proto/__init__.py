"""The TWS API protobuf protocol (server versions 201+): wire codec, schema, request decoders, reply encoders."""
