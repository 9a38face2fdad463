package dev.roost.chaos.nemesis;

/**
 * One planned fault: what, when, for how long, and the seeded choice that picks its random targets.
 *
 * @param at offset from the start of the run, in milliseconds
 * @param kind the fault
 * @param durationMillis how long the fault lasts before it is healed
 * @param choice the seeded number that picks random nodes and partition sides
 */
public record ScheduleStep(long at, FaultKind kind, long durationMillis, long choice) {}
