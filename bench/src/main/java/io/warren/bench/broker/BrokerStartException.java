package io.warren.bench.broker;

/** A broker that did not come up; the message says why and where its log is. */
public final class BrokerStartException extends Exception {
  public BrokerStartException(String message) {
    super(message);
  }

  public BrokerStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
