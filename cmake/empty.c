/* Stands in for a layer that has no sources yet (ISO C needs one declaration). */
typedef int sw_empty_translation_unit;
