module goheap/goref

go 1.19
