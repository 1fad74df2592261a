/* Growable arrays: the one helper for every array that grows as items arrive
 * (curves, histories, rows, parameter lists, SQL text). The array stays a
 * plain T * and a capacity, so structs keep their fields and callers index
 * it directly; only the growth, its overflow checks and its failure path
 * live here. */
#include "stopwise/base.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t sw_array_grown_cap(size_t cap, size_t need)
{
    size_t c = cap > SIZE_MAX / 2 ? SIZE_MAX : 2 * cap;
    if (c < 16) c = 16;
    return c < need ? need : c;
}

sw_status sw_array_resize(void *arrp, size_t n, size_t size)
{
    if (n == 0 || size == 0) n = size = 1; /* a valid pointer for an empty array */
    if (n > SIZE_MAX / size) return SW_ERR_NOMEM;
    /* arrp is the address of a T *: copy the pointer in and out with memcpy,
     * which is valid whatever T is (no aliasing through void **). */
    void *old;
    memcpy(&old, arrp, sizeof old);
    void *p = realloc(old, n * size);
    if (!p) return SW_ERR_NOMEM;
    memcpy(arrp, &p, sizeof p);
    return SW_OK;
}

sw_status sw_array_reserve(void *arrp, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return SW_OK;
    size_t nc = sw_array_grown_cap(*cap, need);
    /* when doubling would overflow the byte count, try exactly `need` */
    if (size && nc > SIZE_MAX / size) nc = need;
    sw_status st = sw_array_resize(arrp, nc, size);
    if (st) return st;
    *cap = nc;
    return SW_OK;
}
