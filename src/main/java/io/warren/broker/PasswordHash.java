package io.warren.broker;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * A user's password as RabbitMQ stores it: a 4-byte random salt and the digest of salt + password
 * ({@code rabbit_password_hashing_sha256}, or sha512 / md5), so that the users of a RabbitMQ
 * definitions export log in with their own passwords.
 */
final class PasswordHash {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final String algorithm;
    private final byte[] salt;
    private final byte[] digest;

    private PasswordHash(String algorithm, byte[] salt, byte[] digest) {
        this.algorithm = algorithm;
        this.salt = salt;
        this.digest = digest;
    }

    static PasswordHash of(String password) {
        byte[] salt = new byte[4];
        RANDOM.nextBytes(salt);
        return new PasswordHash("SHA-256", salt, digest("SHA-256", salt, password));
    }

    /** From an export's {@code password_hash} and {@code hashing_algorithm} (RabbitMQ's default: sha256). */
    static PasswordHash fromExport(String user, String passwordHash, String hashingAlgorithm) {
        String algorithm = switch (hashingAlgorithm == null ? "rabbit_password_hashing_sha256" : hashingAlgorithm) {
            case "rabbit_password_hashing_sha256" -> "SHA-256";
            case "rabbit_password_hashing_sha512" -> "SHA-512";
            case "rabbit_password_hashing_md5" -> "MD5";
            default -> throw new IllegalArgumentException("user '" + user + "': unknown hashing_algorithm '"
                    + hashingAlgorithm + "' (Warren knows rabbit_password_hashing_sha256, _sha512 and _md5)");
        };
        if (passwordHash == null || passwordHash.isEmpty()) {
            // RabbitMQ: a user without a password cannot log in with one.
            return new PasswordHash(algorithm, new byte[4], new byte[0]);
        }
        byte[] raw = Base64.getDecoder().decode(passwordHash);
        if (raw.length < 5) {
            throw new IllegalArgumentException("user '" + user + "': password_hash is too short to hold a salt and a digest");
        }
        return new PasswordHash(algorithm, Arrays.copyOf(raw, 4), Arrays.copyOfRange(raw, 4, raw.length));
    }

    boolean matches(String password) {
        return digest.length > 0 && MessageDigest.isEqual(digest, digest(algorithm, salt, password));
    }

    private static byte[] digest(String algorithm, byte[] salt, String password) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            md.update(salt);
            return md.digest(password.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
