// Kafka consumer-group offset rewinds on Huawei Cloud DMS as code: OffsetReset rewinds a group once, previewed per partition.
package dmsoffsetreset
