package dev.roost.domain;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The domain is plain Java: it must stay testable and readable without Raft or the wire. */
class DomainArchitectureTest {
  @Test
  void domainImportsNoRaftGrpcOrProtobuf() {
    JavaClasses domain =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.roost.domain");
    noClasses()
        .that()
        .resideInAPackage("dev.roost.domain..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "org.apache.ratis..",
            "io.grpc..",
            "com.google.protobuf..",
            "dev.roost.proto..",
            "dev.roost.statemachine..")
        .check(domain);
  }
}
