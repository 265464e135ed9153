package io.warren.protocol;

/**
 * A protocol error on the protocol's own terms: reply code, text, and the method that caused it.
 * Raised where the problem is detected; the connection turns it into channel.close or connection.close
 * (by {@link ReplyCode#isHard}) in one place. The text is prefixed with the code's name as RabbitMQ does.
 */
public final class AmqpException extends RuntimeException {
    private final int replyCode;
    private final int classId;
    private final int methodId;
    private final String text;

    public AmqpException(int replyCode, String text, int classId, int methodId) {
        super(replyText(ReplyCode.name(replyCode) + " - " + text), null, false, false);
        this.text = text;
        this.replyCode = replyCode;
        this.classId = classId;
        this.methodId = methodId;
    }

    public AmqpException(int replyCode, String text, Method method) {
        this(replyCode, text, method == null ? 0 : method.classId(), method == null ? 0 : method.methodId());
    }

    public AmqpException(int replyCode, String text) {
        this(replyCode, text, 0, 0);
    }

    /**
     * A reply text that fits the reply-text shortstr: as RabbitMQ does, text over 255 UTF-8 bytes is
     * cut to 252 bytes (never inside a character) followed by "...".
     */
    public static String replyText(String text) {
        if (text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 255) {
            return text;
        }
        int bytes = 0;
        int end = 0;
        while (end < text.length()) {
            int cp = text.codePointAt(end);
            int size = new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes + size > 252) {
                break;
            }
            bytes += size;
            end += Character.charCount(cp);
        }
        return text.substring(0, end) + "...";
    }

    public int replyCode() { return replyCode; }
    public int classId() { return classId; }
    public int methodId() { return methodId; }
    public boolean isHard() { return ReplyCode.isHard(replyCode); }

    /** The same error attributed to the method being handled, when the raiser did not know it. */
    public AmqpException attributedTo(Method method) {
        if (classId != 0 || method == null) {
            return this;
        }
        return new AmqpException(replyCode, text, method);
    }
}
