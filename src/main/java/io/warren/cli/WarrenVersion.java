package io.warren.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * Warren's version as Maven built it: a resource filtered from pom.xml, so the version lives in the
 * pom only. Always dotted numbers, as clients expect of a broker's "version" property.
 */
public final class WarrenVersion implements IVersionProvider {
    private static final String VERSION_PROPERTIES = "/io/warren/version.properties";

    public static String get() {
        try (InputStream in = WarrenVersion.class.getResourceAsStream(VERSION_PROPERTIES)) {
            if (in == null) {
                return "0.0.0";
            }
            Properties pom = new Properties();
            pom.load(in);
            return pom.getProperty("version", "0.0.0");
        } catch (IOException e) {
            return "0.0.0";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {"Warren " + get() + " (AMQP 0-9-1), Java " + Runtime.version()};
    }
}
