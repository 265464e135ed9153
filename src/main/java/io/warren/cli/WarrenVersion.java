package io.warren.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * Warren's version as Maven built it. Read from the pom.properties that the jar plugin puts into
 * every jar, so the version lives in pom.xml only; running from classes (IDE, tests) says "dev".
 */
public final class WarrenVersion implements IVersionProvider {
    private static final String POM_PROPERTIES = "/META-INF/maven/io.warren/warren/pom.properties";

    public static String get() {
        try (InputStream in = WarrenVersion.class.getResourceAsStream(POM_PROPERTIES)) {
            if (in == null) {
                return "dev";
            }
            Properties pom = new Properties();
            pom.load(in);
            return pom.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {"Warren " + get() + " (AMQP 0-9-1), Java " + Runtime.version()};
    }
}
