/* The record's contract: docs/record.schema.json describes every field. The writer
 * (lifecycle/record.c) writes RECORD_SCHEMA; the report (report/sample.c) reads every schema from
 * RECORD_SCHEMA_OLDEST to RECORD_SCHEMA. test_report_roundtrip holds the two to each other, and
 * the tests validate every record they produce against the document. */
#ifndef MEASURED_RECORD_SCHEMA_H
#define MEASURED_RECORD_SCHEMA_H

#define RECORD_SCHEMA 2 /* 2: "flows", the workload's own connections */
#define RECORD_SCHEMA_OLDEST 1

#endif
