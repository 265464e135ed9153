package io.warren.protocol;

/** The wire types of method arguments (AMQP 0-9-1 section 4.2.5). Consecutive bits pack into octets. */
public enum FieldType {
    OCTET, SHORT, LONG, LONGLONG, SHORTSTR, LONGSTR, BIT, TABLE, TIMESTAMP
}
