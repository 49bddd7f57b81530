ğß´«3
bdSeq X