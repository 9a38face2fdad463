package dev.roost.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The command line reaches servers through the client library only, and knows no benchmark. */
class CliArchitectureTest {
  @Test
  void cliImportsNoServerDomainOrBenchCode() {
    JavaClasses cli =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.roost.cli");
    noClasses()
        .that()
        .resideInAPackage("dev.roost.cli..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.roost.statemachine..",
            "dev.roost.server..",
            "dev.roost.domain..",
            "dev.roost.bench..",
            "dev.roost.chaos..",
            "org.apache.ratis.server..")
        .check(cli);
  }
}
