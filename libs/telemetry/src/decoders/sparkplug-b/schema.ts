import * as protobuf from 'protobufjs/light.js';

/**
 * The Sparkplug B payload schema, `sparkplug_b.proto` of the Sparkplug 3.0 specification
 * (package `org.eclipse.tahu.protobuf`), as a protobufjs JSON descriptor: the same field numbers
 * and types, no code generation step and no `.proto` file read at run time. Extension ranges and
 * the `*ValueExtension` messages carry nothing a host can interpret and are left out: their
 * fields are skipped as unknown fields, as protobuf readers do.
 *
 * ```proto
 * message Payload {
 *   optional uint64 timestamp = 1; repeated Metric metrics = 2; optional uint64 seq = 3;
 *   optional string uuid = 4; optional bytes body = 5;
 *   message Metric {
 *     optional string name = 1; optional uint64 alias = 2; optional uint64 timestamp = 3;
 *     optional uint32 datatype = 4; optional bool is_historical = 5; optional bool is_transient = 6;
 *     optional bool is_null = 7; optional MetaData metadata = 8; optional PropertySet properties = 9;
 *     oneof value { uint32 int_value = 10; uint64 long_value = 11; float float_value = 12;
 *       double double_value = 13; bool boolean_value = 14; string string_value = 15;
 *       bytes bytes_value = 16; DataSet dataset_value = 17; Template template_value = 18; }
 *   }
 *   … Template, Template.Parameter, DataSet, DataSet.Row, DataSet.DataSetValue, PropertyValue,
 *   PropertySet, PropertySetList, MetaData as below.
 * }
 * ```
 */
const scalarOneof = (base: number) => ({
  int_value: { type: 'uint32', id: base },
  long_value: { type: 'uint64', id: base + 1 },
  float_value: { type: 'float', id: base + 2 },
  double_value: { type: 'double', id: base + 3 },
  boolean_value: { type: 'bool', id: base + 4 },
  string_value: { type: 'string', id: base + 5 },
});
const VALUE_ONEOF = [
  'int_value',
  'long_value',
  'float_value',
  'double_value',
  'boolean_value',
  'string_value',
];

const DESCRIPTOR = {
  nested: {
    Payload: {
      // proto2, as the specification's file: optional scalars have presence, so a seq of 0 is
      // on the wire (protobufjs takes a descriptor without an edition for proto3).
      edition: 'proto2',
      fields: {
        timestamp: { type: 'uint64', id: 1 },
        metrics: { rule: 'repeated', type: 'Metric', id: 2 },
        seq: { type: 'uint64', id: 3 },
        uuid: { type: 'string', id: 4 },
        body: { type: 'bytes', id: 5 },
      },
      nested: {
        Template: {
          fields: {
            version: { type: 'string', id: 1 },
            metrics: { rule: 'repeated', type: 'Metric', id: 2 },
            parameters: { rule: 'repeated', type: 'Parameter', id: 3 },
            template_ref: { type: 'string', id: 4 },
            is_definition: { type: 'bool', id: 5 },
          },
          nested: {
            Parameter: {
              oneofs: { value: { oneof: VALUE_ONEOF } },
              fields: {
                name: { type: 'string', id: 1 },
                type: { type: 'uint32', id: 2 },
                ...scalarOneof(3),
              },
            },
          },
        },
        DataSet: {
          fields: {
            num_of_columns: { type: 'uint64', id: 1 },
            columns: { rule: 'repeated', type: 'string', id: 2 },
            types: { rule: 'repeated', type: 'uint32', id: 3 },
            rows: { rule: 'repeated', type: 'Row', id: 4 },
          },
          nested: {
            DataSetValue: {
              oneofs: { value: { oneof: VALUE_ONEOF } },
              fields: scalarOneof(1),
            },
            Row: { fields: { elements: { rule: 'repeated', type: 'DataSetValue', id: 1 } } },
          },
        },
        PropertyValue: {
          oneofs: {
            value: { oneof: [...VALUE_ONEOF, 'propertyset_value', 'propertysets_value'] },
          },
          fields: {
            type: { type: 'uint32', id: 1 },
            is_null: { type: 'bool', id: 2 },
            ...scalarOneof(3),
            propertyset_value: { type: 'PropertySet', id: 9 },
            propertysets_value: { type: 'PropertySetList', id: 10 },
          },
        },
        PropertySet: {
          fields: {
            keys: { rule: 'repeated', type: 'string', id: 1 },
            values: { rule: 'repeated', type: 'PropertyValue', id: 2 },
          },
        },
        PropertySetList: {
          fields: { propertyset: { rule: 'repeated', type: 'PropertySet', id: 1 } },
        },
        MetaData: {
          fields: {
            is_multi_part: { type: 'bool', id: 1 },
            content_type: { type: 'string', id: 2 },
            size: { type: 'uint64', id: 3 },
            seq: { type: 'uint64', id: 4 },
            file_name: { type: 'string', id: 5 },
            file_type: { type: 'string', id: 6 },
            md5: { type: 'string', id: 7 },
            description: { type: 'string', id: 8 },
          },
        },
        Metric: {
          oneofs: {
            value: {
              oneof: [...VALUE_ONEOF, 'bytes_value', 'dataset_value', 'template_value'],
            },
          },
          fields: {
            name: { type: 'string', id: 1 },
            alias: { type: 'uint64', id: 2 },
            timestamp: { type: 'uint64', id: 3 },
            datatype: { type: 'uint32', id: 4 },
            is_historical: { type: 'bool', id: 5 },
            is_transient: { type: 'bool', id: 6 },
            is_null: { type: 'bool', id: 7 },
            metadata: { type: 'MetaData', id: 8 },
            properties: { type: 'PropertySet', id: 9 },
            ...scalarOneof(10),
            bytes_value: { type: 'bytes', id: 16 },
            dataset_value: { type: 'DataSet', id: 17 },
            template_value: { type: 'Template', id: 18 },
          },
        },
      },
    },
  },
};

/** `Payload` of sparkplug_b.proto. */
export const PAYLOAD_TYPE: protobuf.Type = protobuf.Root.fromJSON(DESCRIPTOR).lookupType('Payload');
