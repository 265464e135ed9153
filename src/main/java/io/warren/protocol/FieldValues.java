package io.warren.protocol;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Java types for the field-table values that have no exact Java counterpart, so that a table read
 * off the wire writes back with the same type letters. The rest map directly: 't' Boolean, 'b' Byte,
 * 's' Short, 'I' Integer, 'l' Long, 'f' Float, 'd' Double, 'D' BigDecimal, 'A' List, 'F' Map,
 * 'V' null, 'x' byte[].
 */
public final class FieldValues {
    private FieldValues() {
    }

    /** 'B': unsigned 8-bit. */
    public record UByte(int value) {
    }

    /** 'u': unsigned 16-bit. */
    public record UShort(int value) {
    }

    /** 'i': unsigned 32-bit. */
    public record UInt(long value) {
    }

    /** 'T': seconds since the epoch. */
    public record Timestamp(long epochSeconds) {
    }

    /** 'S': a long string as bytes (not always valid UTF-8 on the wire); toString decodes UTF-8. */
    public record LongString(byte[] bytes) {
        public static LongString of(String s) {
            return new LongString(s.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LongString other && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    /** A string value, whether sent as 'S' or set by the broker as a String; null otherwise. */
    public static String string(Object value) {
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof LongString ls) {
            return ls.toString();
        }
        return null;
    }

    /** An integral value of any width, or null when the value is not a whole number. */
    public static Long integer(Object value) {
        if (value instanceof Byte || value instanceof Short || value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        if (value instanceof UByte v) {
            return (long) v.value();
        }
        if (value instanceof UShort v) {
            return (long) v.value();
        }
        if (value instanceof UInt v) {
            return v.value();
        }
        if (value instanceof BigDecimal d && d.scale() == 0) {
            return d.longValue();
        }
        return null;
    }

    /**
     * True for the integer types RabbitMQ accepts where an argument must be a whole number: signed
     * and unsigned 8, 16 and 32 bits and signed 64 bits (not a decimal, even of scale 0).
     */
    public static boolean isInteger(Object value) {
        return value instanceof Byte || value instanceof Short || value instanceof Integer || value instanceof Long
                || value instanceof UByte || value instanceof UShort || value instanceof UInt;
    }

    /** The field-table type letter a value is written with; '?' for a type the codec does not write. */
    public static char typeLetter(Object v) {
        if (v == null) return 'V';
        if (v instanceof String || v instanceof FieldValues.LongString) return 'S';
        if (v instanceof byte[]) return 'x';
        if (v instanceof Boolean) return 't';
        if (v instanceof Byte) return 'b';
        if (v instanceof FieldValues.UByte) return 'B';
        if (v instanceof Short) return 's';
        if (v instanceof FieldValues.UShort) return 'u';
        if (v instanceof Integer) return 'I';
        if (v instanceof FieldValues.UInt) return 'i';
        if (v instanceof Long) return 'l';
        if (v instanceof Float) return 'f';
        if (v instanceof Double) return 'd';
        if (v instanceof BigDecimal) return 'D';
        if (v instanceof FieldValues.Timestamp) return 'T';
        if (v instanceof Map<?, ?>) return 'F';
        if (v instanceof List<?>) return 'A';
        return '?';
    }

    /** RabbitMQ's name for a value's field type, as its error messages print it. */
    public static String typeName(Object v) {
        return switch (typeLetter(v)) {
            case 'V' -> "void";
            case 'x' -> "binary";
            case 't' -> "bool";
            case 'b' -> "byte";
            case 'B' -> "unsignedbyte";
            case 's' -> "short";
            case 'u' -> "unsignedshort";
            case 'I' -> "signedint";
            case 'i' -> "unsignedint";
            case 'l' -> "long";
            case 'f' -> "float";
            case 'd' -> "double";
            case 'D' -> "decimal";
            case 'T' -> "timestamp";
            case 'F' -> "table";
            case 'A' -> "array";
            case 'S' -> "longstr";
            default -> v.getClass().getSimpleName();
        };
    }
}
