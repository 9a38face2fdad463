package dev.roost.client;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The client library is what applications take: it speaks the API and Ratis' client protocol and
 * knows nothing of how the servers are built. The POM's banned dependencies keep server code off
 * its compile path; this keeps it out of its imports even where the test path has it.
 */
class ClientArchitectureTest {
  @Test
  void clientImportsNoServerDomainCliOrBenchCode() {
    JavaClasses client =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.roost.client");
    noClasses()
        .that()
        .resideInAPackage("dev.roost.client..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.roost.statemachine..",
            "dev.roost.server..",
            "dev.roost.domain..",
            "dev.roost.cli..",
            "dev.roost.bench..",
            "dev.roost.chaos..",
            "dev.roost.testkit..",
            "org.apache.ratis.server..",
            "org.apache.ratis.statemachine..")
        .check(client);
  }
}
